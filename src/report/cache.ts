// Completions that know the whole file: the shipped model alone, the model with the cache
// n-gram model mixed into decoding (the file, and the other files of its directory as open
// files), and the no-model baseline, on held-out cases that carry their file's full text, per
// language and cursor kind; plus the cache's extra latency and memory.
//
//   node out/src/report/cache.js [--model DIR] [--cases test/fixtures/heldout-cases.jsonl] [--out docs/reports] [--render-only]
//   node --expose-gc out/src/report/cache.js --latency-only 30   (a short run: paired latency and the memory of 1 MB of open files, docs/reports/cache-latency.json)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_CACHE_WEIGHTS, type CacheWeights } from '../engine/cache-mix';
import { DocumentStore, MAX_OTHER_DOCUMENTS } from '../engine/document-cache';
import { CompletionEngine } from '../engine/engine';
import { CaseResult, caseDocument, EvalCase, EvalReport, parseCases, runCases, summarize } from '../engine/evaluate';
import { percentile } from '../engine/metrics';
import { defaultModelDir, packageRoot } from '../engine/paths';
import { arg } from '../tools/argv';
import { similarLineBaseline } from './quality';

const THRESHOLD = 0.5;

/** Files of the cases by path (a case's file is its full text with the target in place). */
function caseFiles(cases: EvalCase[]): Map<string, { lang: string; text: string }> {
  const files = new Map<string, { lang: string; text: string }>();
  for (const c of cases) {
    const d = caseDocument(c);
    files.set(c.path ?? c.id, { lang: c.lang ?? '', text: d.prefix + c.target + d.suffix });
  }
  return files;
}

/** Other files of the same directory and language: the files a user working there has open. */
export function siblingsOf(c: EvalCase, files: Map<string, { lang: string; text: string }>): string[] {
  const dir = path.posix.dirname(c.path ?? c.id);
  return [...files.keys()].filter((p) => p !== c.path && path.posix.dirname(p) === dir && files.get(p)!.lang === c.lang).sort();
}

export interface CacheRun { rows: CaseResult[]; extraMs: number[]; lookupMs: number[]; changedTokens: number; tokens: number }

/**
 * Every case with its whole document as context, with or without the caches (`weights`
 * undefined: model alone). `workspace` opens the case's sibling files too. Documents are synced
 * and indexed before the clock starts, as in the editor; the time of preparing the caches at
 * the cursor (one chunk re-tokenized) counts as completion latency.
 */
export async function runWithCaches(engine: CompletionEngine, cases: EvalCase[], weights: CacheWeights | undefined, workspace: boolean): Promise<CacheRun> {
  const files = caseFiles(cases);
  const run: CacheRun = { rows: [], extraMs: [], lookupMs: [], changedTokens: 0, tokens: 0 };
  run.rows = await runCases(cases, async (k, mode) => {
    const doc = caseDocument(k);
    const req = { path: k.path ?? k.id, ...doc, mode, threshold: THRESHOLD, cacheWeights: weights };
    if (!weights) {
      const r = await engine.complete(req);
      return { text: r.text, saved: r.compute.saved, ms: r.timing.totalMs };
    }
    const encode = (t: string[]) => engine.tokenizer.encodeMany(t);
    const store = new DocumentStore(encode);
    for (const p of workspace ? siblingsOf(k, files) : []) await store.open(p, k.lang ?? '', files.get(p)!.text).ready(encode);
    await store.open(k.id, k.lang ?? '', doc.prefix + doc.suffix).ready(encode);
    const t0 = performance.now();
    const caches = await store.prepare(k.id, doc.prefix.length);
    const prepMs = performance.now() - t0;
    const r = await engine.complete(req, undefined, caches);
    run.extraMs.push(prepMs + r.cache!.ms);
    run.lookupMs.push(r.cache!.ms);
    run.changedTokens += r.cache!.changed.reduce((a, b) => a + b, 0);
    run.tokens += r.tokens;
    return { text: r.text, saved: r.compute.saved, ms: prepMs + r.timing.totalMs };
  });
  return run;
}

/**
 * Heap and buffer growth of a store holding `chars` characters of open files, cut from `texts`
 * into as many files as the store keeps besides the current one (needs --expose-gc).
 */
export async function storeMemory(engine: CompletionEngine, texts: string[], chars: number): Promise<{ files: number; chars: number; tokens: number; mb: number; indexMs: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc to measure memory');
  const used = () => {
    gc();
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  };
  const all = texts.join('').slice(0, chars);
  const size = Math.ceil(all.length / MAX_OTHER_DOCUMENTS);
  const before = used();
  const store = new DocumentStore((t) => engine.tokenizer.encodeMany(t));
  for (let i = 0; i * size < all.length; i++) store.open(`f${i}`, 'x', all.slice(i * size, (i + 1) * size));
  store.open('current', 'x', '');
  const t0 = performance.now();
  const { file, workspace } = await store.prepare('current', 0);
  const indexMs = performance.now() - t0;
  const mb = (used() - before) / 1e6;
  const docs = [file, ...workspace];
  return { files: workspace.length, chars: docs.reduce((n, d) => n + d.length, 0), tokens: docs.reduce((n, d) => n + d.tokens, 0), mb, indexMs };
}

/**
 * Latency of the same completions with and without the file cache, run back to back per case
 * (on a shared machine the pairs see the same load): medians of total time, and of the cache's
 * own work (preparing at the cursor, lookups and mixing) in wall and CPU time.
 */
export async function pairedLatency(engine: CompletionEngine, cases: EvalCase[]): Promise<Record<string, number>> {
  const alone: number[] = [];
  const cached: number[] = [];
  const extra: number[] = [];
  const extraCpu: number[] = [];
  const encode = (t: string[]) => engine.tokenizer.encodeMany(t);
  for (const k of cases) {
    const doc = caseDocument(k);
    const req = { path: k.path ?? k.id, ...doc, mode: k.kind === 'multi-line' ? 'multiline' as const : 'line' as const, threshold: THRESHOLD };
    const store = new DocumentStore(encode);
    await store.open(k.id, k.lang ?? '', doc.prefix + doc.suffix).ready(encode);
    // Each completion prefills from scratch: the second must not reuse the first one's prompt.
    engine.reset();
    const a = await engine.complete(req);
    engine.reset();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const caches = await store.prepare(k.id, doc.prefix.length);
    const prepMs = performance.now() - t0;
    const prepCpu = process.cpuUsage(cpu0);
    const r = await engine.complete(req, undefined, caches);
    alone.push(a.timing.totalMs);
    cached.push(prepMs + r.timing.totalMs);
    extra.push(prepMs + r.cache!.ms);
    // CPU of preparing (the mixing runs on this thread between model calls; its wall time is its CPU time when not preempted).
    extraCpu.push((prepCpu.user + prepCpu.system) / 1000 + r.cache!.ms);
  }
  return {
    cases: cases.length,
    aloneP50Ms: percentile(alone, 50), aloneP95Ms: percentile(alone, 95),
    cachedP50Ms: percentile(cached, 50), cachedP95Ms: percentile(cached, 95),
    extraP50Ms: percentile(extra, 50), extraP95Ms: percentile(extra, 95),
    extraCpuP50Ms: percentile(extraCpu, 50), extraCpuP95Ms: percentile(extraCpu, 95),
  };
}

interface CacheData {
  model: string;
  cases: number;
  reports: Record<string, EvalReport>;
  latency: Record<string, { cases: number; extraP50Ms: number; extraP95Ms: number; lookupP50Ms: number; changedTokens: number; tokens: number }>;
}

async function main(): Promise<void> {
  const root = packageRoot();
  const out = path.resolve(root, arg('--out', 'docs/reports'));
  if (process.argv.includes('--render-only')) return void fs.writeFileSync(path.join(out, 'cache.md'), renderCache(JSON.parse(fs.readFileSync(path.join(out, 'cache.json'), 'utf8')) as CacheData));
  const cases = parseCases(fs.readFileSync(path.resolve(root, arg('--cases', 'test/fixtures/heldout-cases.jsonl')), 'utf8'), 'cases');
  const engine = await CompletionEngine.load({ modelDir: path.resolve(root, arg('--model', defaultModelDir())), precision: 'q4', provider: 'cpu' });
  const probe = Number(arg('--latency-only', '0'));
  if (probe > 0) {
    const step = Math.max(1, Math.floor(cases.length / probe));
    // Memory first, before completions leave garbage of their own.
    const memory = await storeMemory(engine, [...caseFiles(cases).values()].map((f) => f.text), 1_000_000);
    const latency = await pairedLatency(engine, cases.filter((_, i) => i % step === 0).slice(0, probe));
    fs.writeFileSync(path.join(out, 'cache-latency.json'), JSON.stringify({ latency, memory }, null, 1));
    console.log(JSON.stringify({ latency, memory }));
    return;
  }
  const alone = await runWithCaches(engine, cases, undefined, false);
  const file = await runWithCaches(engine, cases, DEFAULT_CACHE_WEIGHTS, false);
  // Cases without sibling files complete exactly as with the file cache alone: run only the others.
  const files = caseFiles(cases);
  const withSiblings = cases.filter((k) => siblingsOf(k, files).length > 0);
  const bothPart = await runWithCaches(engine, withSiblings, DEFAULT_CACHE_WEIGHTS, true);
  const byId = new Map(bothPart.rows.map((r) => [r.id, r]));
  const both: CacheRun = { ...bothPart, rows: file.rows.map((r) => byId.get(r.id) ?? r) };
  const noModel = await runCases(cases, async (k) => ({ text: similarLineBaseline({ ...k, prefix: caseDocument(k).prefix }), saved: 0, ms: 0 }));
  const reports: Record<string, EvalReport> = {
    'model alone': summarize(alone.rows),
    '+ file cache': summarize(file.rows),
    '+ file and open-files cache': summarize(both.rows),
    'no model: repeat most similar earlier line': summarize(noModel),
  };
  const lat = (r: CacheRun) => ({
    cases: r.extraMs.length, extraP50Ms: percentile(r.extraMs, 50), extraP95Ms: percentile(r.extraMs, 95), lookupP50Ms: percentile(r.lookupMs, 50), changedTokens: r.changedTokens, tokens: r.tokens,
  });
  const data: CacheData = { model: engine.info.model, cases: cases.length, reports, latency: { '+ file cache': lat(file), '+ file and open-files cache (cases with sibling files)': lat(bothPart) } };
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'cache.json'), JSON.stringify(data, null, 1));
  const md = renderCache(data);
  fs.writeFileSync(path.join(out, 'cache.md'), md);
  console.log(md);
}

export function renderCache({ cases, reports, latency }: CacheData): string {
  const names = Object.keys(reports);
  const groups = [...Object.keys(reports[names[0]].groups), 'all'];
  const pick = (r: EvalReport, g: string) => (g === 'all' ? r : r.groups[g]);
  const pct = (x: number) => (100 * x).toFixed(1);
  return [`# Held-out completions with the whole file as context (${cases} cases)`, '',
    `Exact match / edit similarity (%), after post-processing. ${names.map((n, i) => `(${i + 1}) ${n}`).join('; ')}.`, '',
    `| language/cursor | cases | ${names.map((_, i) => `(${i + 1}) exact`).join(' | ')} | ${names.map((_, i) => `(${i + 1}) edit sim`).join(' | ')} |`,
    `|---|---|${names.map(() => '---|').join('')}${names.map(() => '---|').join('')}`,
    ...groups.map((g) => `| ${g} | ${pick(reports[names[0]], g).cases} | ${names.map((n) => pct(pick(reports[n], g).exactMatch)).join(' | ')} | ${names.map((n) => pct(pick(reports[n], g).editSimilarity)).join(' | ')} |`),
    '', `Latency p50 / p95: ${names.slice(0, 3).map((n) => `${n} ${reports[n].p50Ms.toFixed(0)} / ${reports[n].p95Ms.toFixed(0)} ms`).join(', ')}.`,
    ...Object.entries(latency).map(([n, l]) => `Extra per completion (${n}, ${l.cases} cases): preparing the caches at the cursor plus lookups and mixing, p50 ${l.extraP50Ms.toFixed(2)} ms / p95 ${l.extraP95Ms.toFixed(2)} ms (lookups ${l.lookupP50Ms.toFixed(2)} ms p50); the cache changed the model's choice for ${l.changedTokens} of ${l.tokens} generated tokens.`),
    'Latency here is wall time on a shared, loaded machine; `--latency-only` measures it paired (docs/reports/cache-latency.json), with the memory of 1 MB of open files.', ''].join('\n');
}

if (require.main === module) void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
