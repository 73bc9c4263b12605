// Builds a platform-specific .vsix (`vsce package --target T`) that carries only what the
// extension loads at run time: the bundle, the panel's media, the bundled model and T's native
// binaries of onnxruntime-node and tokenizers (both npm packages ship every platform: ~350 MB).
//
//   node out/src/tools/package-vsix.js [--target linux-x64] [--out file.vsix]   (after npm run build)
//
// The ignore file is generated per target from what is actually on disk, so a new top-level
// folder (training runs, data, caches) stays out of the package without anyone remembering to.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_MODEL_NAME, packageRoot } from '../engine/paths';

/** Per vsce target: onnxruntime-node's bin/napi-v6 folder and tokenizers' .node suffix. */
const TARGETS: Record<string, { ort: string; tokenizers: string }> = {
  'linux-x64': { ort: 'linux/x64', tokenizers: 'linux-x64-gnu' },
  'linux-arm64': { ort: 'linux/arm64', tokenizers: 'linux-arm64-gnu' },
  'win32-x64': { ort: 'win32/x64', tokenizers: 'win32-x64-msvc' },
  'win32-arm64': { ort: 'win32/arm64', tokenizers: 'win32-arm64-msvc' },
  'darwin-arm64': { ort: 'darwin/arm64', tokenizers: 'darwin-arm64' },
  // darwin-x64 is missing on purpose: onnxruntime-node 1.30.0 ships no binary for it.
};

/** Top-level entries the extension needs; everything else in the project root is left out. */
const KEEP_ROOT = new Set(['package.json', 'README.md', 'LICENSE', 'dist', 'media', 'models', 'node_modules']);
/**
 * Packages loaded at run time: the dependencies and onnxruntime-common (onnxruntime-node's other
 * dependencies only serve its install script).
 */
function runtimeModules(root: string): Set<string> {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  return new Set([...Object.keys(pkg.dependencies ?? {}), 'onnxruntime-common']);
}
/** dist/ also holds the CLI and source maps. */
const KEEP_DIST = new Set(['extension.js', 'worker.js']);

export function defaultTarget(): string {
  return `${process.platform}-${process.arch}`;
}

function entries(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

function ignoredEntries(dir: string, keep: (name: string) => boolean): string[] {
  return entries(dir).filter((name) => !keep(name));
}

/** vsce ignore patterns (minimatch, relative to the root; a plain name also covers its folder). */
export function ignorePatterns(root: string, target: string): string[] {
  const t = TARGETS[target];
  if (!t) throw new Error(`unsupported target ${target}; supported: ${Object.keys(TARGETS).join(', ')}`);
  const ortBin = 'node_modules/onnxruntime-node/bin/napi-v6';
  const ortPlatforms = entries(path.join(root, ortBin)).flatMap((p) => entries(path.join(root, ortBin, p)).map((a) => `${p}/${a}`));
  if (!ortPlatforms.includes(t.ort)) throw new Error(`onnxruntime-node has no ${ortBin}/${t.ort}; run npm ci`);
  const tokBinary = `tokenizers.${t.tokenizers}.node`;
  if (!fs.existsSync(path.join(root, 'node_modules/tokenizers', tokBinary))) throw new Error(`node_modules/tokenizers/${tokBinary} is missing; run npm ci`);
  const modules = runtimeModules(root);
  return [
    ...ignoredEntries(root, (n) => KEEP_ROOT.has(n)),
    ...ignoredEntries(path.join(root, 'node_modules'), (n) => modules.has(n)).map((n) => `node_modules/${n}`),
    ...ignoredEntries(path.join(root, 'dist'), (n) => KEEP_DIST.has(n)).map((n) => `dist/${n}`),
    ...ignoredEntries(path.join(root, 'models'), (n) => n === DEFAULT_MODEL_NAME).map((n) => `models/${n}`),
    ...ortPlatforms.filter((p) => p !== t.ort).map((p) => `${ortBin}/${p}`),
    // The install script (it fetches the CUDA provider) is not used at run time.
    'node_modules/onnxruntime-node/script',
    ...ignoredEntries(path.join(root, 'node_modules/tokenizers'), (n) => !n.endsWith('.node') || n === tokBinary).map((n) => `node_modules/tokenizers/${n}`),
  ];
}

function vsce(root: string, args: string[]): string {
  const bin = path.join(root, 'node_modules/@vscode/vsce/vsce');
  return execFileSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

/** Files that must (or must not) be in the package: a wrong ignore list fails here, not on a user's machine. */
function checkContents(files: string[], target: string): void {
  const t = TARGETS[target];
  const required = ['package.json', 'dist/extension.js', 'dist/worker.js', `models/${DEFAULT_MODEL_NAME}/manifest.json`,
    'node_modules/onnxruntime-common/package.json', `node_modules/onnxruntime-node/bin/napi-v6/${t.ort}/onnxruntime_binding.node`,
    `node_modules/tokenizers/tokenizers.${t.tokenizers}.node`];
  const missing = required.filter((f) => !files.includes(f));
  const foreign = files.filter((f) => /^(src|test|out|training|data)\//.test(f) ||
    (f.startsWith('node_modules/onnxruntime-node/bin/') && !f.includes(`/napi-v6/${t.ort}/`)) ||
    (/^node_modules\/tokenizers\/.*\.node$/.test(f) && !f.endsWith(`.${t.tokenizers}.node`)));
  if (missing.length || foreign.length) {
    throw new Error(`package contents are wrong:${missing.map((f) => `\n  missing ${f}`).join('')}${foreign.map((f) => `\n  unwanted ${f}`).join('')}`);
  }
}

export function packageVsix(opts: { target?: string; out?: string } = {}): string {
  const root = packageRoot();
  const target = opts.target ?? defaultTarget();
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; version: string };
  const out = path.resolve(opts.out ?? path.join(root, `${pkg.name}-${target}-${pkg.version}.vsix`));
  for (const f of ['dist/extension.js', 'dist/worker.js']) {
    if (!fs.existsSync(path.join(root, f))) throw new Error(`${f} is missing: run npm run build first`);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mod-vsix-'));
  try {
    const ignoreFile = path.join(tmp, 'vscodeignore');
    fs.writeFileSync(ignoreFile, ignorePatterns(root, target).join('\n') + '\n');
    checkContents(vsce(root, ['ls', '--ignoreFile', ignoreFile]).split('\n').filter(Boolean), target);
    // No `repository` in package.json: this extension is not published from a public repository.
    vsce(root, ['package', '--target', target, '--ignoreFile', ignoreFile, '--allow-missing-repository', '--out', out]);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return out;
}

function main(): void {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const out = packageVsix({ target: opt('--target'), out: opt('--out') });
  console.log(`${out}: ${(fs.statSync(out).size / 2 ** 20).toFixed(1)} MiB`);
}

if (require.main === module) {
  try {
    main();
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}
