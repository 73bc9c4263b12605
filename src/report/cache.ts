// Completions that know the whole file: the shipped model alone, with the cache n-gram model
// mixed into decoding (the file, and the other files of its directory as open files), with a
// retrieved snippet in the prompt, with both, and the no-model baseline, on held-out cases that
// carry their file's full text, per language and cursor kind; plus the extra latency and memory.
//
//   node out/src/report/cache.js [--model DIR] [--cases test/fixtures/heldout-cases.jsonl] [--snippet-tokens 64] [--out docs/reports] [--render-only]
//   node --expose-gc out/src/report/cache.js --latency-only 30   (a short run: paired latency and the memory of 1 MB of open files, docs/reports/cache-latency.json)
import '../engine/telemetry'; // first: turns onnxruntime telemetry off before it loads
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_CACHE_WEIGHTS, type CacheWeights } from '../engine/cache-mix';
import { DocumentStore, MAX_OTHER_DOCUMENTS } from '../engine/document-cache';
import type { WordWeights } from '../engine/word-cache';
import { CompletionEngine } from '../engine/engine';
import { COMPUTE_BUDGETS } from '../engine/budgets';
import { CaseResult, caseDocument, caseMode, EvalCase, EvalReport, parseCases, runCases, summarize } from '../engine/evaluate';
import { percentile } from '../engine/metrics';
import { defaultModelDir, packageRoot } from '../engine/paths';
import { arg } from '../tools/argv';
import { similarLineBaseline } from './quality';

/** The shipped default budget's threshold. */
const THRESHOLD = COMPUTE_BUDGETS.balanced;

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

export interface CacheRun { rows: CaseResult[]; extraMs: number[]; lookupMs: number[]; changedTokens: number; tokens: number; snippets: number }

/** What a run gives the engine besides the model: cache weights (undefined: no mixing), open files, a snippet budget. */
export interface ContextOptions { weights?: CacheWeights; words?: WordWeights; workspace: boolean; snippetTokens: number }

export const MODEL_ALONE: ContextOptions = { workspace: false, snippetTokens: 0 };

/**
 * Every case with its whole document as context, with the caches mixed in (`weights`) and or a
 * snippet in the prompt. `workspace` opens the case's sibling files too. Documents are synced
 * and indexed before the clock starts, as in the editor; the time of preparing the caches at
 * the cursor (one chunk re-tokenized) counts as completion latency.
 */
export async function runWithCaches(engine: CompletionEngine, cases: EvalCase[], o: ContextOptions): Promise<CacheRun> {
  const files = caseFiles(cases);
  const run: CacheRun = { rows: [], extraMs: [], lookupMs: [], changedTokens: 0, tokens: 0, snippets: 0 };
  run.rows = await runCases(cases, async (k, mode) => {
    const doc = caseDocument(k);
    const req = { path: k.path ?? k.id, ...doc, mode, threshold: THRESHOLD, cacheWeights: o.weights, wordWeights: o.words, cacheMix: o.weights !== undefined, snippetTokens: o.snippetTokens };
    if (!o.weights && !o.workspace) {
      const r = await engine.complete(req);
      if (r.snippet) run.snippets++;
      return { text: r.text, saved: r.compute.saved, ms: r.timing.totalMs };
    }
    const encode = (t: string[]) => engine.tokenizer.encodeMany(t);
    const store = new DocumentStore(encode);
    for (const p of o.workspace ? siblingsOf(k, files) : []) await store.open(p, k.lang ?? '', files.get(p)!.text).ready(encode);
    await store.open(k.id, k.lang ?? '', doc.prefix + doc.suffix).ready(encode);
    const t0 = performance.now();
    const caches = await store.prepare(k.id, doc.prefix.length);
    const prepMs = performance.now() - t0;
    const r = await engine.complete(req, undefined, caches);
    if (r.snippet) run.snippets++;
    run.extraMs.push(prepMs + (r.cache?.ms ?? 0));
    run.lookupMs.push(r.cache?.ms ?? 0);
    run.changedTokens += r.cache?.changed.reduce((a, b) => a + b, 0) ?? 0;
    run.tokens += r.tokens;
    return { text: r.text, saved: r.compute.saved, ms: prepMs + r.timing.totalMs };
  });
  return run;
}

/**
 * Heap and buffer growth of a store holding `chars` characters of open files, cut from `texts`
 * into as many files as the store keeps besides the current one, all of it indexed (needs --expose-gc).
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
  // Completions index 64K characters each; as the user goes on, all of it ends up indexed.
  for (const d of workspace) await d.ready((t) => engine.tokenizer.encodeMany(t));
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
    const req = { path: k.path ?? k.id, ...doc, mode: caseMode(k), threshold: THRESHOLD };
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
  /** Completions whose prompt held a snippet (the others found none similar enough). */
  snippetsUsed?: Record<string, number>;
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
  const snippetTokens = Number(arg('--snippet-tokens', '64'));
  const weights = DEFAULT_CACHE_WEIGHTS;
  const alone = await runWithCaches(engine, cases, MODEL_ALONE);
  const cache = await runWithCaches(engine, cases, { weights, workspace: true, snippetTokens: 0 });
  const snippets = await runWithCaches(engine, cases, { workspace: true, snippetTokens });
  const both = await runWithCaches(engine, cases, { weights, workspace: true, snippetTokens });
  const noModel = await runCases(cases, async (k) => ({ text: similarLineBaseline({ ...k, prefix: caseDocument(k).prefix }), saved: 0, ms: 0 }));
  const reports: Record<string, EvalReport> = {
    'model alone': summarize(alone.rows),
    '+ cache (n-grams and identifiers of the file and open files)': summarize(cache.rows),
    [`+ snippet (${snippetTokens} tokens)`]: summarize(snippets.rows),
    '+ cache and snippet': summarize(both.rows),
    'no model: repeat most similar earlier line': summarize(noModel),
  };
  const lat = (r: CacheRun) => ({
    cases: r.extraMs.length, extraP50Ms: percentile(r.extraMs, 50), extraP95Ms: percentile(r.extraMs, 95), lookupP50Ms: percentile(r.lookupMs, 50), changedTokens: r.changedTokens, tokens: r.tokens,
  });
  const data: CacheData = {
    model: engine.info.model, cases: cases.length, reports,
    latency: { '+ cache': lat(cache), '+ snippet': lat(snippets), '+ cache and snippet': lat(both) },
    snippetsUsed: { '+ snippet': snippets.snippets, '+ cache and snippet': both.snippets },
  };
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'cache.json'), JSON.stringify(data, null, 1));
  const md = renderCache(data);
  fs.writeFileSync(path.join(out, 'cache.md'), md);
  console.log(md);
}

export function renderCache({ cases, reports, latency, snippetsUsed }: CacheData): string {
  const names = Object.keys(reports);
  const groups = [...Object.keys(reports[names[0]].groups), 'all'];
  const pick = (r: EvalReport, g: string) => (g === 'all' ? r : r.groups[g]);
  const pct = (x: number) => (100 * x).toFixed(1);
  return [`# Held-out completions with the whole file as context (${cases} cases)`, '',
    `Exact match / edit similarity (%), after post-processing. ${names.map((n, i) => `(${i + 1}) ${n}`).join('; ')}.`, '',
    `| language/cursor | cases | ${names.map((_, i) => `(${i + 1}) exact`).join(' | ')} | ${names.map((_, i) => `(${i + 1}) edit sim`).join(' | ')} |`,
    `|---|---|${names.map(() => '---|').join('')}${names.map(() => '---|').join('')}`,
    ...groups.map((g) => `| ${g} | ${pick(reports[names[0]], g).cases} | ${names.map((n) => pct(pick(reports[n], g).exactMatch)).join(' | ')} | ${names.map((n) => pct(pick(reports[n], g).editSimilarity)).join(' | ')} |`),
    '', `Latency p50 / p95: ${names.slice(0, -1).map((n) => `${n} ${reports[n].p50Ms.toFixed(0)} / ${reports[n].p95Ms.toFixed(0)} ms`).join(', ')}.`,
    ...Object.entries(latency).map(([n, l]) => `Extra per completion (${n}, ${l.cases} cases): preparing the caches at the cursor plus lookups and mixing, p50 ${l.extraP50Ms.toFixed(2)} ms / p95 ${l.extraP95Ms.toFixed(2)} ms (lookups ${l.lookupP50Ms.toFixed(2)} ms p50); the cache changed the model's choice for ${l.changedTokens} of ${l.tokens} generated tokens.`),
    ...Object.entries(snippetsUsed ?? {}).map(([n, k]) => `${n}: ${k} of ${cases} prompts held a snippet (the others found no window similar enough).`),
    'Latency here is wall time on a shared, loaded machine; `--latency-only` measures it paired (docs/reports/cache-latency.json), with the memory of 1 MB of open files.', ''].join('\n');
}

if (require.main === module) void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
