/**
 * `kvshare pack build`: documents → a version 2 KV pack (src/store/pack-index.ts) a site serves from any
 * static host and apps mount (`cache.mount(url, {integrity})`). Each document is prefilled on this
 * machine: whole (one entry, id = its name) or, with --chunk-tokens, in chunks (`<name>#<n>`).
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { InvalidArgumentError } from '../errors.ts';
import type { KVEntry } from '../kvshare/entry.ts';
import { checkUserMeta, type EntryUserMeta } from '../kvshare/user-meta.ts';
import { createNodeTokenEngine } from '../node/index.ts';
import { decodeIndex, encodeIndexedPack, integrityOf } from '../store/pack-index.ts';
import { type CliArgs, kvDtypeArg, num, str } from './args.ts';

export interface SourceDocument {
  id: string;
  text: string;
  /** A jsonl line's `meta` (checked by cache.add / cache.addDocument), given to every entry of the document. */
  meta?: EntryUserMeta;
}

/** Documents of a folder (every .txt / .md file, by name; id = the name without extension) or a JSON-lines file ({"id"?, "text", "meta"?}). */
export function readDocuments(path: string): SourceDocument[] {
  if (statSync(path).isDirectory()) {
    const names = readdirSync(path)
      .filter((n) => /\.(txt|md)$/i.test(n))
      .sort();
    if (names.length === 0) throw new InvalidArgumentError(`${path} holds no .txt or .md files`);
    return names.map((n) => ({ id: basename(n, extname(n)), text: readFileSync(join(path, n), 'utf8') }));
  }
  const docs: SourceDocument[] = [];
  for (const [i, line] of readFileSync(path, 'utf8').split(/\r?\n/).entries()) {
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new InvalidArgumentError(`${path} line ${i + 1}: not valid JSON`);
    }
    const o = v as { id?: unknown; text?: unknown; meta?: unknown };
    if (typeof o !== 'object' || o === null || typeof o.text !== 'string')
      throw new InvalidArgumentError(`${path} line ${i + 1}: expected {"id"?: string, "text": string}`);
    if (o.id !== undefined && typeof o.id !== 'string')
      throw new InvalidArgumentError(`${path} line ${i + 1}: id must be a string`);
    const meta =
      o.meta === undefined
        ? undefined
        : checkUserMeta(o.meta, (msg) => {
            throw new InvalidArgumentError(`${path} line ${i + 1}: ${msg}`);
          });
    docs.push({ id: o.id ?? `doc${docs.length}`, text: o.text, ...(meta ? { meta } : {}) });
  }
  if (docs.length === 0) throw new InvalidArgumentError(`${path} holds no documents`);
  const ids = new Set(docs.map((d) => d.id));
  if (ids.size !== docs.length) throw new InvalidArgumentError(`${path}: two documents share an id`);
  return docs;
}

export async function runPackBuild(args: CliArgs): Promise<number> {
  const docs = readDocuments(str(args, 'docs'));
  const out = str(args, 'out');
  const chunkTokens = args['chunk-tokens'] === undefined ? undefined : num(args, 'chunk-tokens', 0);
  const engine = createNodeTokenEngine();
  const info = await engine.load(str(args, 'model'), {
    contextLength: args.context ? num(args, 'context', 0) : undefined,
    kvDtype: kvDtypeArg(args),
    cacheBudgetBytes: 4 * 2 ** 30,
  });
  console.error(`adapter: ${info.adapter}`);
  const ids: string[] = [];
  for (const d of docs) {
    const opts = { id: d.id, meta: d.meta };
    if (chunkTokens === undefined) ids.push((await engine.cache.add(d.text, opts)).id);
    else
      ids.push(...(await engine.cache.addDocument(d.text, { ...opts, chunkTokens })).chunks.map((c) => c.id));
    process.stderr.write(`\r${ids.length} entries`);
  }
  process.stderr.write('\n');
  const entries: KVEntry[] = [];
  for (const id of ids) {
    const e = await engine.cache.get(id);
    if (!e) throw new InvalidArgumentError(`entry ${id} was evicted before the pack was written`);
    entries.push(e);
  }
  const pack = await encodeIndexedPack(entries, info.fingerprint);
  await engine.unload();
  writeFileSync(out, pack);
  const index = decodeIndex(pack, { fingerprint: info.fingerprint, numLayers: 0, kvDim: 0 });
  const summary = {
    out,
    documents: docs.length,
    entries: entries.length,
    bytes: pack.length,
    indexBytes: index.indexEnd,
    integrity: await integrityOf(pack.subarray(0, index.indexEnd)),
    entryBytes: Object.fromEntries(index.rows.map((r) => [r.id, r.length])),
  };
  if (args.json) console.log(JSON.stringify(summary));
  else
    console.log(
      `${out}: ${summary.entries} entries from ${summary.documents} documents, ${summary.bytes} bytes (index ${summary.indexBytes})\nintegrity: ${summary.integrity}`,
    );
  return 0;
}
