// Builds the training corpus from the listed sources: gathers TypeScript, JavaScript and Python
// files, drops minified, generated, compiled, vendored, duplicate and non-permissive ones, caps
// declaration files, removes near-duplicates (neardup.ts), splits train/val/heldout by file, and
// writes JSONL shards plus a small committed manifest.
//
//   node out/src/corpus/build.js [--out data/corpus] [--manifest training/corpus-manifest.json]
//   node out/src/corpus/build.js --pin training/corpus-hashes.txt
//
// Validation is frozen to the files listed in val-hashes.ts, so bits/byte stays comparable across
// rebuilds: they are kept as recorded, win over their duplicates, and files of newer sources that
// fall in the validation bucket go to val-extra.jsonl (never trained on). Near-duplicate removal
// keeps every val, val-extra and held-out file and drops the training files near them.
//
// The sources (installed packages, this project's node_modules) drift from machine to machine,
// so `--pin` rebuilds exactly the recorded corpus: only files whose hash is listed, in the listed
// split, through the same per-file filters (the corpus-wide declaration cap and near-duplicate
// steps are what the list records); it reports what is missing and leaves the committed manifest alone.

import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compiledFromSources, dedupeKey, isDeclarationFile, isPermissive, judgeFile, languageOf, Lang, looksBuildOutput, looksCompiled, Split, splitOf } from './filters';
import { minhash, NEAR_DUP_DEFAULTS, NearDupOptions, nearDupVerdicts } from './neardup';
import { FROZEN_VAL_HASHES } from './val-hashes';
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
  nearDupBytes?: number;
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
  /** Most share of the training split's TypeScript bytes that declaration files (.d.ts) may take. */
  maxDeclarationShare: number;
  /** Truncated hashes of the validation files; other files in the validation bucket go to val-extra. */
  frozenVal: ReadonlySet<string>;
  nearDup: NearDupOptions;
  /** Truncated hash -> split of the files to keep; every other file is skipped uncounted. */
  pin?: Map<string, CorpusSplit>;
}

/** The splits of the written corpus: val-extra holds validation-bucket files outside the frozen set. */
export type CorpusSplit = Split | 'val-extra';
const SPLITS: CorpusSplit[] = ['train', 'val', 'val-extra', 'heldout'];

/** The corpus this build replaced (178.6 MB), for the manifest's before/after comparison. */
const BEFORE = {
  note: 'corpus before the added npm TypeScript/JavaScript sources, compiled-output filters, declaration cap and near-duplicate removal',
  totalBytes: 178619322,
  bytesByLang: { typescript: 18851761, javascript: 40679873, python: 119087688 },
  files: { train: 21077, val: 224, heldout: 194 },
};

/** Reads a corpus-hashes.txt (`split hash` lines) into hash -> split. */
export function readPin(file: string): Map<string, CorpusSplit> {
  const pin = new Map<string, CorpusSplit>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const [split, h] = line.trim().split(' ');
    if (h) pin.set(h, split as CorpusSplit);
  }
  return pin;
}

/** A file that passed the per-file filters, waiting for the corpus-wide decisions. */
interface Candidate {
  src: number;
  relPath: string;
  lang: Lang;
  buf: Buffer;
  hash: string;
  split: CorpusSplit;
  frozen: boolean;
  declaration: boolean;
  dropped?: string;
}

function count(st: SourceStats, reason: string): void {
  st.dropped[reason] = (st.dropped[reason] ?? 0) + 1;
}

/**
 * Which training declaration files to keep so that they stay within `maxShare` of the training
 * TypeScript bytes: all of them when they fit, otherwise the ones with the smallest content hash
 * (a deterministic sample across sources) up to the budget.
 */
export function declarationCap(cands: readonly { bytes: number; hash: string; declaration: boolean }[], maxShare: number): Set<number> {
  let other = 0;
  const decl: number[] = [];
  cands.forEach((c, i) => (c.declaration ? decl.push(i) : (other += c.bytes)));
  const budget = maxShare >= 1 ? Infinity : (other * maxShare) / (1 - maxShare);
  const kept = new Set<number>();
  let used = 0;
  for (const i of decl.sort((a, b) => (cands[a].hash < cands[b].hash ? -1 : cands[a].hash > cands[b].hash ? 1 : a - b))) {
    if (used + cands[i].bytes > budget) continue;
    used += cands[i].bytes;
    kept.add(i);
  }
  return kept;
}

export function buildCorpus(opts: BuildOptions): void {
  const stats: SourceStats[] = [];
  const nearDupBytes: number[] = [];
  const gathered: Record<Lang, number> = { typescript: 0, javascript: 0, python: 0 };
  const cands: Candidate[] = [];
  const seen = new Map<string, number>();
  // Python sources come first in the list but are capped against JS/TS afterwards, so gather
  // JS/TS sources first and Python last.
  const sources = listSources(opts.projectRoot).sort((a, b) => Number(isPythonSource(a)) - Number(isPythonSource(b)));
  for (const src of sources) {
    const st: SourceStats = { source: src.name, license: '', files: 0, bytes: 0, bytesByLang: {}, hash: '', dropped: {} };
    const licenses = new Set<string>();
    let units: Unit[];
    try {
      units = unitsOf(src, opts.cacheDir);
    } catch (e) {
      console.error(`skip ${src.name}: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    const si = stats.length;
    stats.push(st);
    nearDupBytes.push(0);
    for (const unit of units) {
      if (!isPermissive(unit.license)) {
        count(st, 'license');
        continue;
      }
      licenses.add(unit.license!);
      const files = [...walk(unit.root)].map((f) => ({ file: f, rel: path.relative(unit.root, f) })).filter((f) => languageOf(f.rel));
      // Compiled copies of TypeScript sources shipped alongside them (dist/*.js, emitted .d.ts).
      const compiled = compiledFromSources(files.map((f) => f.rel));
      for (const { file, rel } of files) {
        const lang = languageOf(rel)!;
        const buf = fs.readFileSync(file);
        const h = sha256(buf);
        const h16 = h.slice(0, 16);
        if (opts.pin && !opts.pin.has(h16)) continue;
        // A pinned build applies the same per-file rules, so it picks the same copy of duplicated files.
        const frozen = opts.pin ? opts.pin.get(h16) === 'val' : opts.frozenVal.has(h16);
        if (lang === 'python' && !frozen && gathered.python > opts.maxPythonRatio * (gathered.typescript + gathered.javascript)) {
          count(st, 'python-cap');
          continue;
        }
        const text = buf.toString('utf8');
        const v = judgeFile(rel, text);
        if (!v.keep) {
          count(st, v.reason!);
          continue;
        }
        // The frozen validation files are kept as they were recorded, whatever later filters say.
        if (!frozen) {
          if (compiled.has(rel)) {
            count(st, isDeclarationFile(rel) ? 'declaration-emitted' : 'compiled');
            continue;
          }
          if (lang === 'javascript' && looksCompiled(text)) {
            count(st, 'compiled');
            continue;
          }
          if (looksBuildOutput(text)) {
            count(st, 'generated');
            continue;
          }
        }
        const key = sha256(dedupeKey(text));
        const prev = seen.get(key);
        if (prev !== undefined) {
          // A frozen validation file wins over an earlier copy of itself.
          if (!frozen || cands[prev].frozen) {
            count(st, 'duplicate');
            continue;
          }
          cands[prev].dropped = 'duplicate';
          count(stats[cands[prev].src], 'duplicate');
        }
        seen.set(key, cands.length);
        const bucket = splitOf(h);
        const split: CorpusSplit = opts.pin ? opts.pin.get(h16)! : frozen ? 'val' : bucket === 'val' ? 'val-extra' : bucket;
        const relPath = path.join(path.basename(unit.root), rel);
        cands.push({ src: si, relPath, lang, buf, hash: h, split, frozen, declaration: isDeclarationFile(rel) });
        gathered[lang] += buf.length;
      }
    }
    st.license = [...licenses].sort().join(', ');
  }

  const nd = { files: 0, bytes: 0, bytesByLang: {} as Partial<Record<Lang, number>>, againstProtected: { files: 0, bytes: 0 } };
  let declaration = { trainFiles: 0, trainBytes: 0, capped: 0 };
  if (!opts.pin) {
    // Declaration files are what tools emit and libraries ship more than what people write: cap their share.
    const train = cands.map((c, i) => ({ c, i })).filter(({ c }) => !c.dropped && c.split === 'train' && c.lang === 'typescript');
    const keep = declarationCap(train.map(({ c }) => ({ bytes: c.buf.length, hash: c.hash, declaration: c.declaration })), opts.maxDeclarationShare);
    train.forEach(({ c }, j) => {
      if (!c.declaration) return;
      if (keep.has(j)) {
        declaration.trainFiles++;
        declaration.trainBytes += c.buf.length;
      } else {
        c.dropped = 'declaration-cap';
        declaration.capped++;
        count(stats[c.src], 'declaration-cap');
      }
    });
    // Near-duplicates: validation, val-extra and held-out files win; a training file near any of
    // them, or near an earlier kept training file, is dropped.
    const live = cands.filter((c) => !c.dropped);
    const t0 = Date.now();
    const verdicts = nearDupVerdicts(live.map((c) => ({ sig: minhash(c.buf.toString('utf8'), opts.nearDup), protected: c.split !== 'train' })), opts.nearDup);
    live.forEach((c, i) => {
      if (verdicts[i] < 0) return;
      c.dropped = 'near-duplicate';
      count(stats[c.src], 'near-duplicate');
      nearDupBytes[c.src] += c.buf.length;
      nd.files++;
      nd.bytes += c.buf.length;
      nd.bytesByLang[c.lang] = (nd.bytesByLang[c.lang] ?? 0) + c.buf.length;
      if (live[verdicts[i]].split !== 'train') {
        nd.againstProtected.files++;
        nd.againstProtected.bytes += c.buf.length;
      }
    });
    console.log(`near-duplicates: ${nd.files} files, ${(nd.bytes / 1e6).toFixed(1)} MB dropped of ${live.length} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }

  fs.mkdirSync(opts.outDir, { recursive: true });
  const writers = Object.fromEntries(SPLITS.map((s) => [s, fs.openSync(path.join(opts.outDir, `${s}.jsonl`), 'w')])) as Record<CorpusSplit, number>;
  const fileHashes = Object.fromEntries(SPLITS.map((s) => [s, [] as string[]])) as Record<CorpusSplit, string[]>;
  const langBytes: Record<Lang, number> = { typescript: 0, javascript: 0, python: 0 };
  const srcHashes = stats.map(() => createHash('sha256'));
  for (const c of cands) {
    if (c.dropped) continue;
    const st = stats[c.src];
    const doc: CorpusDoc = { source: st.source, path: c.relPath, lang: c.lang, text: c.buf.toString('utf8') };
    fs.writeSync(writers[c.split], JSON.stringify(doc) + '\n');
    fileHashes[c.split].push(c.hash.slice(0, 16));
    srcHashes[c.src].update(c.hash);
    st.files++;
    st.bytes += c.buf.length;
    st.bytesByLang[c.lang] = (st.bytesByLang[c.lang] ?? 0) + c.buf.length;
    if (c.split === 'train' || c.split === 'val' || c.split === 'heldout') langBytes[c.lang] += c.buf.length;
  }
  for (const fd of Object.values(writers)) fs.closeSync(fd);
  stats.forEach((st, i) => {
    st.hash = srcHashes[i].digest('hex').slice(0, 16);
    if (nearDupBytes[i]) st.nearDupBytes = nearDupBytes[i];
    console.log(`${st.source}: ${st.files} files, ${(st.bytes / 1e6).toFixed(1)} MB, dropped ${JSON.stringify(st.dropped)}`);
  });
  if (opts.pin) {
    reportPinned(opts.pin, fileHashes);
    return;
  }
  const frozenFound = fileHashes.val.length;
  if (frozenFound !== opts.frozenVal.size) console.error(`WARNING: ${opts.frozenVal.size - frozenFound} of the ${opts.frozenVal.size} frozen validation files were not found`);
  const total = langBytes.typescript + langBytes.javascript + langBytes.python;
  const tsTrain = cands.filter((c) => !c.dropped && c.split === 'train' && c.lang === 'typescript').reduce((a, c) => a + c.buf.length, 0);
  const manifest = {
    description: 'Training corpus of MoD Complete: permissively licensed TypeScript, JavaScript and Python. Rebuild with `npm run corpus`.',
    totalBytes: total,
    bytesByLang: langBytes,
    jsTsShare: +((langBytes.typescript + langBytes.javascript) / total).toFixed(3),
    before: BEFORE,
    files: { train: fileHashes.train.length, val: fileHashes.val.length, heldout: fileHashes.heldout.length, valExtra: fileHashes['val-extra'].length },
    valExtraBytes: cands.filter((c) => !c.dropped && c.split === 'val-extra').reduce((a, c) => a + c.buf.length, 0),
    splits: 'by content hash (splitOf); val is frozen to the recorded files (src/corpus/val-hashes.ts); other validation-bucket files go to val-extra.jsonl (not trained on, not in totalBytes)',
    filters: 'filters.ts: vendored paths, >200 KB, minified, generated, data-like, compiled/bundled JavaScript, compiled copies of shipped TypeScript sources (JS and emitted .d.ts), whitespace-insensitive duplicates, near-duplicates, non-permissive licenses',
    declarationFiles: {
      policy: `.d.ts emitted from shipped .ts sources dropped; the rest capped at ${opts.maxDeclarationShare * 100}% of training TypeScript bytes (smallest content hash first)`,
      trainFiles: declaration.trainFiles,
      trainBytes: declaration.trainBytes,
      shareOfTrainTypeScript: +(declaration.trainBytes / Math.max(1, tsTrain)).toFixed(3),
      capped: declaration.capped,
    },
    nearDup: {
      method: `MinHash over ${opts.nearDup.shingle}-token shingles (identifiers, numbers, punctuation), ${opts.nearDup.permutations} permutations, LSH ${opts.nearDup.bands} bands x ${opts.nearDup.permutations / opts.nearDup.bands} rows`,
      threshold: opts.nearDup.threshold,
      priority: 'val, val-extra and heldout files are kept and indexed first; a training file near one of them or near an earlier kept training file is dropped',
      droppedFiles: nd.files,
      droppedBytes: nd.bytes,
      droppedBytesByLang: nd.bytesByLang,
      droppedAgainstValOrHeldout: nd.againstProtected,
    },
    sources: stats,
  };
  fs.mkdirSync(path.dirname(opts.manifestPath), { recursive: true });
  fs.writeFileSync(opts.manifestPath, JSON.stringify(manifest, null, 1) + '\n');
  // Truncated SHA-256 of every kept file, by split: lets later tools prove a file was never trained on.
  const lines: string[] = [];
  for (const s of SPLITS) for (const h of fileHashes[s].sort()) lines.push(`${s} ${h}`);
  fs.writeFileSync(opts.hashesPath, lines.join('\n') + '\n');
  console.log(`total ${(total / 1e6).toFixed(1)} MB, JS/TS share ${manifest.jsTsShare}, val ${frozenFound}, val-extra ${fileHashes['val-extra'].length}`);
}

function reportPinned(pin: Map<string, CorpusSplit>, found: Record<CorpusSplit, string[]>): void {
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
    maxDeclarationShare: Number(arg('--max-declaration-share', '0.1')),
    frozenVal: new Set(FROZEN_VAL_HASHES),
    nearDup: { ...NEAR_DUP_DEFAULTS, threshold: Number(arg('--near-dup-threshold', String(NEAR_DUP_DEFAULTS.threshold))) },
    pin: arg('--pin', '') ? readPin(path.resolve(arg('--pin', ''))) : undefined,
  });
}
