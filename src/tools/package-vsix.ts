// Builds a platform-specific .vsix (`vsce package --target T`) that carries only what the
// extension loads at run time: the bundle, the panel's media, the bundled model and T's native
// binaries of onnxruntime-node and tokenizers (both npm packages ship every platform: ~350 MB).
//
//   node out/src/tools/package-vsix.js [--target linux-x64] [--out file.vsix]   (after npm run build)
//
// The .vscodeignore is generated per target (an allow-list) and the finished package is checked
// for the files the extension needs and for other platforms' binaries.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_MODEL_NAME, packageRoot } from '../engine/paths';
import { arg } from './argv';

/** Per vsce target: onnxruntime-node's bin/napi-v6 folder and tokenizers' .node suffix. */
const TARGETS: Record<string, { ort: string; tokenizers: string }> = {
  'linux-x64': { ort: 'linux/x64', tokenizers: 'linux-x64-gnu' },
  'linux-arm64': { ort: 'linux/arm64', tokenizers: 'linux-arm64-gnu' },
  'win32-x64': { ort: 'win32/x64', tokenizers: 'win32-x64-msvc' },
  'win32-arm64': { ort: 'win32/arm64', tokenizers: 'win32-arm64-msvc' },
  'darwin-arm64': { ort: 'darwin/arm64', tokenizers: 'darwin-arm64' },
  // darwin-x64 is missing on purpose: onnxruntime-node 1.30.0 ships no binary for it.
};

export function defaultTarget(): string {
  return `${process.platform}-${process.arch}`;
}

/**
 * The ignore file as an allow-list: ignore everything, then re-include what the extension loads
 * at run time (vsce lets a `!pattern` override every ignore pattern). New folders in the project
 * (training runs, data, caches) therefore stay out without anyone listing them, and it is fast:
 * vsce matches every file of the project against every pattern.
 */
const PACKAGE_README = 'dist/README.md';

export function ignorePatterns(target: string): string[] {
  const t = TARGETS[target];
  if (!t) throw new Error(`unsupported target ${target}; supported: ${Object.keys(TARGETS).join(', ')}`);
  return [
    '**',
    '!LICENSE',
    '!dist/extension.js',
    '!dist/worker.js',
    `!${PACKAGE_README}`,
    '!media/**',
    // The extension loads the 4-bit model; the float one (twice the size) stays out of the package.
    `!models/${DEFAULT_MODEL_NAME}/manifest.json`,
    `!models/${DEFAULT_MODEL_NAME}/model.q4.onnx`,
    `!models/${DEFAULT_MODEL_NAME}/tokenizer.json`,
    `!models/${DEFAULT_MODEL_NAME}/MODEL_CARD.md`,
    // onnxruntime-node: its JS and this platform's binding and libraries. Its script/ folder and
    // its other dependencies only serve the install script; onnxruntime-common is its run-time half.
    '!node_modules/onnxruntime-node/package.json',
    '!node_modules/onnxruntime-node/dist/*.js',
    `!node_modules/onnxruntime-node/bin/napi-v6/${t.ort}/**`,
    '!node_modules/onnxruntime-common/package.json',
    '!node_modules/onnxruntime-common/dist/cjs/**/*.js',
    // The package is "type": "module"; this file makes dist/cjs CommonJS again.
    '!node_modules/onnxruntime-common/dist/cjs/package.json',
    '!node_modules/tokenizers/package.json',
    '!node_modules/tokenizers/LICENSE',
    '!node_modules/tokenizers/index.js',
    `!node_modules/tokenizers/tokenizers.${t.tokenizers}.node`,
  ];
}

function vsce(root: string, args: string[]): string {
  const bin = path.join(root, 'node_modules/@vscode/vsce/vsce');
  return execFileSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

/** Entry names of a zip file, from its central directory (a .vsix is a zip; no unzip needed). */
export function zipEntries(file: string): string[] {
  const buf = fs.readFileSync(file);
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error(`${file} is not a zip file`);
  const names: string[] = [];
  let at = buf.readUInt32LE(eocd + 16);
  for (let i = buf.readUInt16LE(eocd + 10); i > 0; i--) {
    const nameLen = buf.readUInt16LE(at + 28);
    names.push(buf.toString('utf8', at + 46, at + 46 + nameLen));
    at += 46 + nameLen + buf.readUInt16LE(at + 30) + buf.readUInt16LE(at + 32);
  }
  return names;
}

/** What must (and must not) be in the package: a wrong ignore list fails here, not on a user's machine. */
function checkContents(vsix: string, target: string, icon: string): void {
  const t = TARGETS[target];
  const files = zipEntries(vsix).filter((f) => f.startsWith('extension/')).map((f) => f.slice('extension/'.length));
  const required = ['package.json', 'LICENSE.txt', icon, 'dist/extension.js', 'dist/worker.js', `models/${DEFAULT_MODEL_NAME}/manifest.json`,
    `models/${DEFAULT_MODEL_NAME}/model.q4.onnx`, `models/${DEFAULT_MODEL_NAME}/tokenizer.json`,
    'node_modules/onnxruntime-common/dist/cjs/index.js', 'node_modules/onnxruntime-common/dist/cjs/package.json', 'node_modules/onnxruntime-node/dist/index.js',
    `node_modules/onnxruntime-node/bin/napi-v6/${t.ort}/onnxruntime_binding.node`, `node_modules/tokenizers/tokenizers.${t.tokenizers}.node`];
  const missing = required.filter((f) => !files.includes(f));
  const foreign = files.filter((f) => /^(src|test|out|training|data)\//.test(f) || f === `models/${DEFAULT_MODEL_NAME}/model.onnx` ||
    (f.startsWith('node_modules/onnxruntime-node/bin/') && !f.includes(`/napi-v6/${t.ort}/`)) ||
    (f.startsWith('node_modules/tokenizers/') && f.endsWith('.node') && !f.endsWith(`.${t.tokenizers}.node`)));
  if (missing.length || foreign.length) {
    throw new Error(`${vsix} has the wrong contents:${missing.map((f) => `\n  missing ${f}`).join('')}${foreign.map((f) => `\n  unwanted ${f}`).join('')}`);
  }
}

export function packageVsix(opts: { target?: string; out?: string } = {}): string {
  const root = packageRoot();
  const target = opts.target ?? defaultTarget();
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; version: string; icon: string };
  const out = path.resolve(opts.out ?? path.join(root, `${pkg.name}-${target}-${pkg.version}.vsix`));
  for (const f of ['dist/extension.js', 'dist/worker.js']) {
    if (!fs.existsSync(path.join(root, f))) throw new Error(`${f} is missing: run npm run build first`);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mod-vsix-'));
  try {
    const ignoreFile = path.join(tmp, 'vscodeignore');
    fs.writeFileSync(ignoreFile, ignorePatterns(target).join('\n') + '\n');
    // The package's README is the project's without its charts and relative links: vsce refuses
    // them when there is no public repository to resolve them against.
    // vsce only takes a readme that is among the packaged files: it goes to dist/ (build output).
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8')
      .replace(/!\[[^\]]*\]\([^)]*\)\s*/g, '')
      .replace(/\[([^\]]*)\]\((?!https?:|#)[^)]*\)/g, '$1');
    fs.writeFileSync(path.join(root, PACKAGE_README), readme);
    // No `repository` in package.json: this extension is not published from a public repository.
    vsce(root, ['package', '--target', target, '--ignoreFile', ignoreFile, '--readme-path', PACKAGE_README, '--allow-missing-repository', '--out', out]);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  checkContents(out, target, pkg.icon);
  return out;
}

function main(): void {
  const out = packageVsix({ target: arg('--target', defaultTarget()), out: arg('--out', '') || undefined });
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
