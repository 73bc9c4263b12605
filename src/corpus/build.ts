// Builds the training corpus from the listed sources: gathers TypeScript, JavaScript and Python
// files, drops minified, generated, vendored, duplicate and non-permissive ones, splits
// train/val/heldout by file, and writes JSONL shards plus a small committed manifest.
//
//   node out/src/corpus/build.js [--out data/corpus] [--manifest training/corpus-manifest.json]
//   node out/src/corpus/build.js --pin training/corpus-hashes.txt
//
// The sources (installed packages, this project's node_modules) drift from machine to machine,
// so `--pin` rebuilds exactly the recorded corpus the shipped model trained on: only files
// whose hash is listed, in the listed split; it reports what is missing and leaves the
// committed manifest alone.

import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dedupeKey, isPermissive, judgeFile, languageOf, Lang, Split, splitOf } from './filters';
import { listSources, Source } from './sources';
import { arg } from '../tools/argv';

export interface CorpusDoc { source: string; path: string; lang: Lang; text: string }

interface Unit { root: string; license: string | undefined }

interface SourceStats {
  source: string;
  license: string;
  files: number;
  bytes: number;
  bytesByLang: Partial<Record<Lang, number>>;
  hash: string;
  dropped: Record<string, number>;
}

function sha256(s: string | Buffer): string {
  return createHash('sha256').update(s).digest('hex');
}

function* walk(dir: string): Generator<string> {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.isFile()) yield p;
  }
}

function readJson(p: string): any {
  try {
    return JSON.parse(fs.readFileSync(p, 'utf8'));
  } catch {
    return undefined;
  }
}

function npmLicense(pkgDir: string): string | undefined {
  const pj = readJson(path.join(pkgDir, 'package.json'));
  if (!pj) return undefined;
  if (typeof pj.license === 'string') return pj.license;
  if (pj.license && typeof pj.license.type === 'string') return pj.license.type;
  return undefined;
}

/** License of the `Files: *` stanza of a Debian machine-readable copyright file. */
export function debianLicense(copyright: string): string | undefined {
  const stanzas = copyright.split(/\n\s*\n/);
  for (const s of stanzas) {
    if (/^Files:\s*\*\s*$/m.test(s)) {
      const m = /^License:\s*(.+)$/m.exec(s);
      if (m) return m[1].trim();
    }
  }
  return undefined;
}

/** License of an installed Python distribution from its METADATA (License-Expression, License, classifiers). */
export function pythonLicense(metadata: string): string | undefined {
  const expr = /^License-Expression:\s*(.+)$/m.exec(metadata);
  if (expr) return expr[1].trim();
  const classifiers = [...metadata.matchAll(/^Classifier:\s*License :: (.+)$/gm)].map((m) => m[1]);
  if (classifiers.length) return classifiers.join('; ');
  const lic = /^License:\s*(.+)$/m.exec(metadata);
  return lic && lic[1].trim().length < 80 ? lic[1].trim() : undefined;
}

function pythonSiteUnits(root: string): Unit[] {
  const byTop = new Map<string, string | undefined>();
  for (const e of fs.readdirSync(root)) {
    if (!e.endsWith('.dist-info')) continue;
    const meta = path.join(root, e, 'METADATA');
    if (!fs.existsSync(meta)) continue;
    const license = pythonLicense(fs.readFileSync(meta, 'utf8'));
    const topFile = path.join(root, e, 'top_level.txt');
    const tops = fs.existsSync(topFile)
      ? fs.readFileSync(topFile, 'utf8').split('\n').map((s) => s.trim()).filter(Boolean)
      : [e.replace(/-[^-]+\.dist-info$/, '').toLowerCase().replace(/-/g, '_')];
    for (const t of tops) byTop.set(t, license);
  }
  const units: Unit[] = [];
  for (const [top, license] of byTop) {
    const dir = path.join(root, top);
    if (fs.existsSync(dir) && fs.statSync(dir).isDirectory()) units.push({ root: dir, license });
  }
  return units;
}

function run(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
}

function fetchDebian(pkg: string, cache: string): string {
  const dest = path.join(cache, 'debian', pkg);
  if (!fs.existsSync(dest)) {
    const debs = path.join(cache, 'debs');
    fs.mkdirSync(debs, { recursive: true });
    run('apt-get', ['download', '-q', pkg], debs);
    const deb = fs.readdirSync(debs).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg} produced no .deb`);
    fs.mkdirSync(dest + '.tmp', { recursive: true });
    run('dpkg-deb', ['-x', path.join(debs, deb), dest + '.tmp']);
    fs.renameSync(dest + '.tmp', dest);
  }
  return dest;
}

function fetchNpm(spec: string, cache: string): string {
  const dest = path.join(cache, 'npm', spec.replace(/[@/]/g, '_'));
  if (!fs.existsSync(dest)) {
    const tmp = dest + '.tmp';
    fs.mkdirSync(tmp, { recursive: true });
    const tgz = run('npm', ['pack', spec, '--silent', '--pack-destination', tmp]).trim().split('\n').pop()!;
    run('tar', ['-xzf', path.join(tmp, tgz), '-C', tmp]);
    fs.unlinkSync(path.join(tmp, tgz));
    fs.renameSync(tmp, dest);
  }
  return path.join(dest, 'package');
}

function unitsOf(src: Source, cache: string): Unit[] {
  switch (src.kind) {
    case 'dir':
      return [{ root: src.root, license: src.license }];
    case 'python-site':
      return pythonSiteUnits(src.root);
    case 'npm-local': {
      const units: Unit[] = [];
      for (const e of fs.readdirSync(src.root)) {
        if (e.startsWith('.')) continue;
        const dirs = e.startsWith('@') ? fs.readdirSync(path.join(src.root, e)).map((s) => path.join(e, s)) : [e];
        for (const d of dirs) units.push({ root: path.join(src.root, d), license: npmLicense(path.join(src.root, d)) });
      }
      return units;
    }
    case 'debian': {
      const dir = fetchDebian(src.pkg, cache);
      const cp = path.join(dir, 'usr/share/doc', src.pkg, 'copyright');
      const license = fs.existsSync(cp) ? debianLicense(fs.readFileSync(cp, 'utf8')) : undefined;
      return [{ root: path.join(dir, 'usr'), license }];
    }
    case 'npm': {
      const dir = fetchNpm(src.spec, cache);
      return [{ root: dir, license: npmLicense(dir) }];
    }
  }
}

export interface BuildOptions {
  outDir: string;
  cacheDir: string;
  manifestPath: string;
  hashesPath: string;
  projectRoot: string;
  maxPythonRatio: number;
  /** Truncated hash -> split of the files to keep; every other file is skipped uncounted. */
  pin?: Map<string, Split>;
}

/** Reads a corpus-hashes.txt (`split hash` lines) into hash -> split. */
export function readPin(file: string): Map<string, Split> {
  const pin = new Map<string, Split>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const [split, h] = line.trim().split(' ');
    if (h) pin.set(h, split as Split);
  }
  return pin;
}

export function buildCorpus(opts: BuildOptions): void {
  fs.mkdirSync(opts.outDir, { recursive: true });
  const writers: Record<Split, number> = {
    train: fs.openSync(path.join(opts.outDir, 'train.jsonl'), 'w'),
    val: fs.openSync(path.join(opts.outDir, 'val.jsonl'), 'w'),
    heldout: fs.openSync(path.join(opts.outDir, 'heldout.jsonl'), 'w'),
  };
  const seen = new Set<string>();
  const fileHashes: Record<Split, string[]> = { train: [], val: [], heldout: [] };
  const stats: SourceStats[] = [];
  const langBytes: Record<Lang, number> = { typescript: 0, javascript: 0, python: 0 };
  // Python sources come first in the list but are capped against JS/TS afterwards, so gather
  // JS/TS sources first and Python last.
  const sources = listSources(opts.projectRoot).sort((a, b) => Number(isPythonSource(a)) - Number(isPythonSource(b)));
  for (const src of sources) {
    const st: SourceStats = { source: src.name, license: '', files: 0, bytes: 0, bytesByLang: {}, hash: '', dropped: {} };
    const srcHash = createHash('sha256');
    const licenses = new Set<string>();
    let units: Unit[];
    try {
      units = unitsOf(src, opts.cacheDir);
    } catch (e) {
      console.error(`skip ${src.name}: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    for (const unit of units) {
      if (!isPermissive(unit.license)) {
        st.dropped['license'] = (st.dropped['license'] ?? 0) + 1;
        continue;
      }
      licenses.add(unit.license!);
      for (const file of walk(unit.root)) {
        const rel = path.relative(unit.root, file);
        const lang = languageOf(rel);
        if (!lang) continue;
        if (lang === 'python' && langBytes.python > opts.maxPythonRatio * (langBytes.typescript + langBytes.javascript)) {
          st.dropped['python-cap'] = (st.dropped['python-cap'] ?? 0) + 1;
          continue;
        }
        const buf = fs.readFileSync(file);
        const h = sha256(buf);
        if (opts.pin && !opts.pin.has(h.slice(0, 16))) continue;
        const text = buf.toString('utf8');
        const v = judgeFile(rel, text);
        if (!v.keep) {
          st.dropped[v.reason!] = (st.dropped[v.reason!] ?? 0) + 1;
          continue;
        }
        const key = sha256(dedupeKey(text));
        if (seen.has(key)) {
          st.dropped['duplicate'] = (st.dropped['duplicate'] ?? 0) + 1;
          continue;
        }
        seen.add(key);
        const split = splitOf(h);
        const relPath = path.join(path.basename(unit.root), rel);
        const doc: CorpusDoc = { source: src.name, path: relPath, lang, text };
        fs.writeSync(writers[split], JSON.stringify(doc) + '\n');
        fileHashes[split].push(h.slice(0, 16));
        srcHash.update(h);
        st.files++;
        st.bytes += buf.length;
        st.bytesByLang[lang] = (st.bytesByLang[lang] ?? 0) + buf.length;
        langBytes[lang] += buf.length;
      }
    }
    st.license = [...licenses].sort().join(', ');
    st.hash = srcHash.digest('hex').slice(0, 16);
    stats.push(st);
    console.log(`${src.name}: ${st.files} files, ${(st.bytes / 1e6).toFixed(1)} MB, dropped ${JSON.stringify(st.dropped)}`);
  }
  for (const fd of Object.values(writers)) fs.closeSync(fd);
  if (opts.pin) {
    reportPinned(opts.pin, fileHashes);
    return;
  }
  const total = langBytes.typescript + langBytes.javascript + langBytes.python;
  const manifest = {
    description: 'Training corpus of MoD Complete: permissively licensed TypeScript, JavaScript and Python. Rebuild with `npm run corpus`.',
    totalBytes: total,
    bytesByLang: langBytes,
    jsTsShare: +((langBytes.typescript + langBytes.javascript) / total).toFixed(3),
    files: { train: fileHashes.train.length, val: fileHashes.val.length, heldout: fileHashes.heldout.length },
    filters: 'filters.ts: vendored paths, >200 KB, minified, generated, data-like, whitespace-insensitive duplicates, non-permissive licenses',
    sources: stats,
  };
  fs.mkdirSync(path.dirname(opts.manifestPath), { recursive: true });
  fs.writeFileSync(opts.manifestPath, JSON.stringify(manifest, null, 1) + '\n');
  // Truncated SHA-256 of every kept file, by split: lets later tools prove a file was never trained on.
  const lines: string[] = [];
  for (const s of ['train', 'val', 'heldout'] as Split[]) for (const h of fileHashes[s].sort()) lines.push(`${s} ${h}`);
  fs.writeFileSync(opts.hashesPath, lines.join('\n') + '\n');
  console.log(`total ${(total / 1e6).toFixed(1)} MB, JS/TS share ${manifest.jsTsShare}`);
}

function reportPinned(pin: Map<string, Split>, found: Record<Split, string[]>): void {
  const have = new Set(Object.values(found).flat());
  const missing: Record<string, number> = {};
  for (const [h, split] of pin) if (!have.has(h)) missing[split] = (missing[split] ?? 0) + 1;
  const counts = Object.entries(found).map(([s, hs]) => `${s} ${hs.length}`).join(', ');
  const miss = Object.keys(missing).length ? `missing ${JSON.stringify(missing)}` : 'none missing';
  console.log(`pinned corpus: ${counts} of ${pin.size} recorded files; ${miss}`);
}

function isPythonSource(s: Source): boolean {
  return s.kind === 'dir' || s.kind === 'python-site';
}

if (require.main === module) {
  const root = path.resolve(__dirname, '../../..');
  buildCorpus({
    outDir: path.resolve(arg('--out', path.join(root, 'data/corpus'))),
    cacheDir: path.resolve(arg('--cache', path.join(root, 'data/cache'))),
    manifestPath: path.resolve(arg('--manifest', path.join(root, 'training/corpus-manifest.json'))),
    hashesPath: path.resolve(arg('--hashes', path.join(root, 'training/corpus-hashes.txt'))),
    projectRoot: root,
    maxPythonRatio: Number(arg('--max-python-ratio', '2')),
    pin: arg('--pin', '') ? readPin(path.resolve(arg('--pin', ''))) : undefined,
  });
}
