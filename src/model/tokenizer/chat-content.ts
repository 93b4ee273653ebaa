/**
 * Content is content: a chat's message text never becomes control tokens. Only the template's own
 * text may hold special tokens (<|im_start|>, <|eot_id|>, …); what a visitor typed is encoded as
 * plain text even when it spells a marker.
 *
 * How: the template is rendered once with every message content replaced by a random placeholder
 * (the content's leading and trailing whitespace kept around it, so `| trim` still trims), and
 * once with the real contents. When putting the contents back into the placeholder rendering gives
 * the real rendering exactly, the template treated contents as opaque text and the pieces are known:
 * template text is encoded with added tokens parsed, contents without. A template that changes
 * contents (upper-cases them, splits off a <think> block, branches on them) falls back to the real
 * rendering with each marker-spelling content placed on its own and kept plain; allowed only when
 * that yields the same added tokens, each as many times, as the template text alone
 * (InvalidArgumentError otherwise).
 */
import type { Tokenizer as HfTokenizerCore } from '@huggingface/tokenizers';

/** A run of rendered text: the template's own (`content: false`) or a message's (`content: true`). */
export interface Segment {
  text: string;
  content: boolean;
}

interface AddedTokenLike {
  content: string;
  id: number;
  lstrip: boolean;
  rstrip: boolean;
}
/** What `@huggingface/tokenizers` keeps private and encode_text uses: read, never changed. */
interface CoreInternals {
  normalizer: ((text: string) => string) | null;
  pre_tokenizer: ((text: string, opts: { section_index: number }) => string[]) | null;
  model: ((tokens: string[]) => string[]) & {
    tokens_to_ids: Map<string, number>;
    unk_token_id?: number;
  };
  post_processor: ((a: string[], b: null, addSpecial: boolean) => { tokens: string[] }) | null;
  splitter_unnormalized: { split(text: string): string[] };
  splitter_normalized: { split(text: string): string[] };
  added_tokens_map: Map<string, AddedTokenLike>;
  remove_space?: boolean;
  do_lowercase_and_remove_accent?: boolean;
}

interface Section {
  text: string;
  token: AddedTokenLike | null;
  /** Holds message content: no added token is matched inside it. */
  content: boolean;
}

/**
 * Token ids of `segments`, as `core.encode(segments joined, {add_special_tokens: false})` gives them
 * except that no added token is matched inside a content segment (or across its edges). With no
 * marker text in the contents this is exactly what encoding the joined text gives: the same
 * sections, normalized, pre-tokenized and split by the model as the library's encode_text does.
 */
export function encodeSegments(core: HfTokenizerCore, segments: Segment[]): number[] {
  const t = core as unknown as CoreInternals;
  const sections: Section[] = [];
  const plain = (text: string, content: boolean) => {
    if (text.length === 0) return;
    const last = sections.at(-1);
    if (last && last.token === null) {
      last.text += text;
      last.content ||= content;
    } else sections.push({ text, token: null, content });
  };
  for (const seg of segments) {
    if (seg.content) {
      plain(seg.text, true);
      continue;
    }
    for (const piece of t.splitter_unnormalized.split(seg.text)) {
      const token = t.added_tokens_map.get(piece);
      if (token) sections.push({ text: piece, token, content: false });
      else plain(piece, false);
    }
  }
  sections.forEach((s, i) => {
    if (!s.token) return;
    if (s.token.lstrip && i > 0) sections[i - 1].text = sections[i - 1].text.trimEnd();
    if (s.token.rstrip && i < sections.length - 1) sections[i + 1].text = sections[i + 1].text.trimStart();
  });
  const pieces = sections.flatMap((s, sectionIndex) => {
    if (s.text.length === 0) return [];
    if (s.token) return [s.token.content];
    let text = s.text;
    if (!s.content && t.added_tokens_map.has(text)) return [text];
    if (t.remove_space === true) text = text.trim().split(/\s+/).join(' ');
    if (t.do_lowercase_and_remove_accent)
      text = text
        .toLowerCase()
        .normalize('NFD')
        .replace(/\p{Mn}/gu, '');
    if (t.normalizer !== null) text = t.normalizer(text);
    if (text.length === 0) return [];
    // Added tokens matched after normalization: only in template text (a content run is one piece).
    const subs = s.content ? [text] : t.splitter_normalized.split(text);
    subs.forEach((sub, j) => {
      const token = s.content ? undefined : t.added_tokens_map.get(sub);
      if (!token) return;
      if (token.lstrip && j > 0) subs[j - 1] = subs[j - 1].trimEnd();
      if (token.rstrip && j < subs.length - 1) subs[j + 1] = subs[j + 1].trimStart();
    });
    return subs.flatMap((sub) => {
      if (sub.length === 0) return [];
      if (!s.content && t.added_tokens_map.has(sub)) return [sub];
      const words = t.pre_tokenizer !== null ? t.pre_tokenizer(sub, { section_index: sectionIndex }) : [sub];
      return t.model(words);
    });
  });
  const tokens = t.post_processor ? t.post_processor(pieces, null, false).tokens : pieces;
  return tokens.map(
    (tok) =>
      t.added_tokens_map.get(tok)?.id ?? t.model.tokens_to_ids.get(tok) ?? (t.model.unk_token_id as number),
  );
}

/** A placeholder per message content, unguessable (random per rendering). */
export interface Placeholders {
  /** What each content is replaced with for the placeholder rendering. */
  stand: string[];
  /** The marker inside stand[i] that the rendering is split on. */
  marks: string[];
  nonce: string;
}

export function makePlaceholders(contents: string[]): Placeholders {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  const nonce = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  const marks = contents.map((_, i) => `\uE000${nonce}.${i}\uE001`);
  const stand = contents.map((c, i) => {
    const { lead, trail } = edges(c);
    return `${lead}${marks[i]}${trail}`;
  });
  return { stand, marks, nonce };
}

/** Leading and trailing whitespace of `s` and what lies between. */
function edges(s: string): { lead: string; core: string; trail: string } {
  const lead = /^\s*/.exec(s)?.[0] ?? '';
  if (lead.length === s.length) return { lead: s, core: '', trail: '' };
  const trail = /\s*$/.exec(s)?.[0] ?? '';
  return { lead, core: s.slice(lead.length, s.length - trail.length), trail };
}

/**
 * The placeholder rendering cut into template and content segments (each content put back, with
 * its whitespace where the template kept it). `intact` is false when the template changed a
 * placeholder (e.g. `| upper`): then the segments are not the real rendering's.
 */
export function splitRendering(
  rendered: string,
  contents: string[],
  ph: Placeholders,
): { segments: Segment[]; intact: boolean } {
  const segments: Segment[] = [];
  const byMark = new Map(ph.marks.map((m, i) => [m, i]));
  const pattern = new RegExp(`\uE000${ph.nonce}\\.(\\d+)\uE001`, 'g');
  let at = 0;
  for (const m of rendered.matchAll(pattern)) {
    const i = byMark.get(m[0]);
    if (i === undefined) continue; // cannot happen: the pattern only matches our marks
    const { lead, core, trail } = edges(contents[i]);
    let start = m.index;
    let end = m.index + m[0].length;
    const keptLead =
      lead.length > 0 && rendered.slice(start - lead.length, start) === lead && start - lead.length >= at;
    const keptTrail = trail.length > 0 && rendered.slice(end, end + trail.length) === trail;
    if (keptLead) start -= lead.length;
    if (keptTrail) end += trail.length;
    template(segments, rendered.slice(at, start));
    segments.push({ text: (keptLead ? lead : '') + core + (keptTrail ? trail : ''), content: true });
    at = end;
  }
  template(segments, rendered.slice(at));
  const intact = !segments.some(
    (s) => !s.content && (s.text.includes('\uE000') || s.text.toLowerCase().includes(ph.nonce)),
  );
  return { segments, intact };
}

function template(segments: Segment[], text: string): void {
  if (text.length > 0) segments.push({ text, content: false });
}

/** Whether `text` spells an added token (as encoding it with added tokens parsed would find one). */
export function holdsAddedToken(core: HfTokenizerCore, text: string): boolean {
  const t = core as unknown as CoreInternals;
  return t.splitter_unnormalized.split(text).some((piece) => t.added_tokens_map.has(piece));
}

/** How many times each added token id occurs in `ids`. */
export function addedTokenCounts(core: HfTokenizerCore, ids: number[]): Map<number, number> {
  const added = core.get_added_tokens_decoder();
  const counts = new Map<number, number>();
  for (const id of ids) if (added.has(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

export function sameCounts(a: Map<number, number>, b: Map<number, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
