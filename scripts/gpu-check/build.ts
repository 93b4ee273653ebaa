// npm run gpu-check: builds gpu-kit/, everything the GPU check needs on a machine with a GPU and
// nothing else (no Node, no network, no package registry), and prints its size and the command to run:
//   gpu-kit/run.sh                  unpacks what follows into a scratch folder, runs the check
//   gpu-kit/bin/node.gz             this Node (linux-x64), gzip -6 (xz -9 saves ~12 MB but takes minutes)
//   gpu-kit/js/kit.mjs              one bundle: engine, shaders, CLI, checks, benches (scripts/gpu-check/kit.ts)
//   gpu-kit/js/dawn.node.gz         the `webgpu` package's linux-x64 Dawn addon
//   gpu-kit/debs/libvulkan1_*.deb   the Vulkan loader (Debian bookworm, amd64)
//   gpu-kit/assets/                 stories260K-hf and its golden outputs
//   gpu-kit/manifest.json           commit, versions, file sizes
// Fails when the kit is over 60 MiB, or the kit and the working tree together over 64 MiB.
// usage: node --import tsx scripts/gpu-check/build.ts [--out gpu-kit]
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';
import { build, type Plugin } from 'esbuild';
import { assetsDir } from '../../test/helpers/models.ts';

const MiB = 2 ** 20;
const KIT_LIMIT = 60 * MiB;
const TRAVEL_LIMIT = 64 * MiB;

const root = fileURLToPath(new URL('../../', import.meta.url));
const { values } = parseArgs({ options: { out: { type: 'string', default: 'gpu-kit' } } });
const out = resolve(root, values.out);
const cache = join(root, 'tmp', 'gpu-kit-cache');

/** The WGSL shaders inlined: shaders-node.ts reads them from disk, the bundle carries them. */
const inlineShaders: Plugin = {
  name: 'inline-shaders',
  setup(b) {
    b.onLoad({ filter: /src[\\/]gpu[\\/]shaders-node\.ts$/ }, () => {
      const dir = join(root, 'shaders');
      const lib: Record<string, string> = {};
      for (const f of (readdirSync(dir, { recursive: true }) as string[]).sort())
        if (f.endsWith('.wgsl')) lib[basename(f, '.wgsl')] = readFileSync(join(dir, f), 'utf8');
      const contents = `const LIB = ${JSON.stringify(lib)};\nexport function nodeShaderLibrary() { return { ...LIB }; }\n`;
      return { contents, loader: 'js' };
    });
  },
};

async function gzipFile(src: string, dst: string): Promise<void> {
  await pipeline(createReadStream(src), createGzip({ level: 6 }), createWriteStream(dst));
}

/** `src` gzipped into the cache (keyed by its size and mtime), then copied to `dst`. */
async function cachedGzip(src: string, dst: string, key: string): Promise<void> {
  const st = statSync(src);
  const cached = join(cache, `${key}-${st.size}-${Math.round(st.mtimeMs)}.gz`);
  if (!existsSync(cached)) {
    mkdirSync(cache, { recursive: true });
    await gzipFile(src, `${cached}.tmp`);
    renameSync(`${cached}.tmp`, cached);
  }
  copyFileSync(cached, dst);
}

/** The Vulkan loader .deb: apt's download cache, else `apt-get download` into the kit cache. */
function vulkanDeb(): string {
  const apt = '/var/cache/apt/archives';
  const pick = (dir: string) =>
    existsSync(dir) ? readdirSync(dir).find((f) => /^libvulkan1_.*_amd64\.deb$/.test(f)) : undefined;
  const fromApt = pick(apt);
  if (fromApt) return join(apt, fromApt);
  const dir = join(cache, 'debs');
  mkdirSync(dir, { recursive: true });
  if (!pick(dir)) {
    try {
      execFileSync('apt-get', ['download', 'libvulkan1:amd64'], { cwd: dir, stdio: 'inherit' });
    } catch (cause) {
      throw new Error(
        'libvulkan1 (amd64) .deb not found in /var/cache/apt/archives and apt-get download failed',
        { cause },
      );
    }
  }
  return join(dir, pick(dir)!);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

function git(args: string[]): string {
  return execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
}

/** Bytes of what travels with the working tree besides the kit: tracked and untracked, not ignored. */
function treeBytes(): number {
  const files = git(['ls-files', '-z', '--cached', '--others', '--exclude-standard'])
    .split('\0')
    .filter(Boolean);
  return files.reduce((s, f) => {
    const p = join(root, f);
    return s + (existsSync(p) && statSync(p).isFile() ? statSync(p).size : 0);
  }, 0);
}

async function main(): Promise<void> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `the kit ships this Node, which must be linux-x64 (this is ${process.platform}-${process.arch})`,
    );
  }
  const dawn = join(root, 'node_modules', 'webgpu', 'dist', 'linux-x64', 'dawn.node');
  if (!existsSync(dawn)) throw new Error(`${dawn} not found (npm install)`);
  const assets = assetsDir(); // $KVSHARE_ASSETS, else ../shared/assets
  for (const f of ['stories260K-hf/config.json', 'stories260K-golden/golden_stories260K.json']) {
    if (!existsSync(join(assets, f))) throw new Error(`${join(assets, f)} not found (set KVSHARE_ASSETS)`);
  }
  const t0 = performance.now();
  rmSync(out, { recursive: true, force: true });
  for (const d of ['bin', 'js', 'debs', 'assets/stories260K-hf', 'assets/stories260K-golden'])
    mkdirSync(join(out, d), { recursive: true });

  await build({
    entryPoints: [join(root, 'scripts', 'gpu-check', 'kit.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: join(out, 'js', 'kit.mjs'),
    plugins: [inlineShaders],
    // CommonJS dependencies call require() for Node's built-ins.
    banner: {
      js: "import { createRequire as __kitRequire } from 'node:module'; const require = __kitRequire(import.meta.url);",
    },
    minifyWhitespace: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  await cachedGzip(process.execPath, join(out, 'bin', 'node.gz'), `node-${process.version}`);
  await cachedGzip(dawn, join(out, 'js', 'dawn.node.gz'), 'dawn');
  const deb = vulkanDeb();
  copyFileSync(deb, join(out, 'debs', deb.split('/').pop()!));
  for (const f of readdirSync(join(assets, 'stories260K-hf'))) {
    copyFileSync(join(assets, 'stories260K-hf', f), join(out, 'assets', 'stories260K-hf', f));
  }
  copyFileSync(
    join(assets, 'stories260K-golden', 'golden_stories260K.json'),
    join(out, 'assets', 'stories260K-golden', 'golden_stories260K.json'),
  );
  copyFileSync(join(root, 'scripts', 'gpu-check', 'run.sh'), join(out, 'run.sh'));
  chmodSync(join(out, 'run.sh'), 0o755);

  const dirty = git(['status', '--porcelain', '--untracked-files=no']) !== '';
  const webgpu = JSON.parse(
    readFileSync(join(root, 'node_modules', 'webgpu', 'package.json'), 'utf8'),
  ).version;
  const files = Object.fromEntries(filesUnder(out).map((f) => [relative(out, f), statSync(f).size]));
  const manifest = {
    commit: `${git(['rev-parse', '--short', 'HEAD'])}${dirty ? '-dirty' : ''}`,
    builtAt: new Date().toISOString(),
    node: process.version,
    webgpu,
    files,
  };
  writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);

  const kit = filesUnder(out).reduce((s, f) => s + statSync(f).size, 0);
  const tree = treeBytes();
  const mib = (b: number) => `${(b / MiB).toFixed(1)} MiB`;
  console.log(`gpu-kit built in ${((performance.now() - t0) / 1000).toFixed(1)} s (${manifest.commit}):`);
  for (const [f, b] of Object.entries(files)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6))
    console.log(`  ${mib(b).padStart(9)}  ${f}`);
  console.log(
    `bundle size: ${mib(kit)} (limit ${mib(KIT_LIMIT)}); with the working tree (${mib(tree)}): ${mib(kit + tree)} of ${mib(TRAVEL_LIMIT)} that may travel`,
  );
  console.log(
    'GPU machine command (device tool, from the repository root): bash gpu-kit/run.sh   carry: ["gpu-kit"]',
  );
  console.log('rehearsal here (software adapter): bash gpu-kit/run.sh --dry-run');
  if (kit > KIT_LIMIT || kit + tree > TRAVEL_LIMIT) {
    console.error(
      `gpu-kit is too big: ${mib(kit)} (limit ${mib(KIT_LIMIT)}), with the tree ${mib(kit + tree)} (limit ${mib(TRAVEL_LIMIT)})`,
    );
    process.exitCode = 1;
  }
}

await main();
