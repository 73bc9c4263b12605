// Tunes the cache model's mixing weights on the validation split, never on held-out code.
//
// 1. Log loss: spans of 64 tokens cut from validation files are scored token by token with the
//    model (teacher forced, up to 448 tokens of left context) and with the caches built from the
//    rest of the file (before and after the span) and from the other validation files of the
//    same directory and language. Coordinate descent picks the weights with the fewest bits
//    per byte; two folds (even / odd files) give bits/byte on files the weights were not tuned on.
// 2. Greedy completions: completion cases built from validation files (as the held-out ones are
//    built from held-out files) check scales of those weights for exact match and edit similarity.
//
//   node out/src/tools/tune-cache.js [--val data/corpus/val.jsonl] [--cases 150] [--scales 0.5,1,1.5] [--weights JSON] [--snippets 64,128] [--out docs/reports/cache-tuning.json]
import '../engine/telemetry'; // first: turns onnxruntime telemetry off before it loads
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readDocs } from '../corpus/jsonl';
import { mulberry32 } from '../corpus/shards';
import { lookup, MAX_CONTEXT, MIN_CONTEXT, TokenChunk, type CachePrediction } from '../engine/cache-model';
import { cacheWeight, CacheWeights, DEFAULT_CACHE_WEIGHTS, mixture } from '../engine/cache-mix';
import { CompletionEngine } from '../engine/engine';
import { DEFAULT_WORD_WEIGHTS } from '../engine/word-cache';
import { summarize } from '../engine/evaluate';
import { defaultModelDir, packageRoot } from '../engine/paths';
import { MODEL_ALONE, runWithCaches } from '../report/cache';
import { arg } from './argv';
import { casesFromText, EvalCase } from './eval-cases';

const SPAN = 64;
const LEFT = 448;

interface Scored { context: number; count: number; p: number }
/** One scored token: the model's probability of it, the caches' view, its bytes, its file's fold. */
interface Row { pm: number; file?: Scored; ws?: Scored; bytes: number; fold: number }

function scored(pred: CachePrediction | undefined, tok: number): Scored | undefined {
  return pred && { context: pred.context, count: pred.count, p: pred.probs.get(tok) ?? 0 };
}

/** Bits per byte of the mixture with weights `w` (model alone when `w` is undefined) over rows. */
export function bitsPerByte(rows: Row[], w: CacheWeights | undefined): number {
  let bits = 0;
  let bytes = 0;
  for (const r of rows) {
    const parts = w ? [r.file && [r.file, 1] as const, r.ws && [r.ws, w.workspace] as const].filter((x) => !!x) : [];
    const lambdas = parts.map(([s, f]) => cacheWeight({ context: s.context, count: s.count, probs: new Map() }, w!, f));
    bits -= Math.log2(mixture(r.pm, parts.map(([s]) => s.p), lambdas));
    bytes += r.bytes;
  }
  return bits / bytes;
}

const GRID = [0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
const HALF = [0.25, 0.5, 1, 2, 4, 8];
const WS = [0, 0.25, 0.5, 0.75, 1];

/** Coordinate descent over the grid, three sweeps from the defaults. */
export function tune(rows: Row[]): CacheWeights {
  let w: CacheWeights = { ...DEFAULT_CACHE_WEIGHTS, byContext: [...DEFAULT_CACHE_WEIGHTS.byContext] };
  const best = <T>(values: T[], make: (v: T) => CacheWeights) => {
    let bw = w;
    let bb = bitsPerByte(rows, w);
    for (const v of values) {
      const c = make(v);
      const b = bitsPerByte(rows, c);
      if (b < bb) [bw, bb] = [c, b];
    }
    w = bw;
  };
  for (let sweep = 0; sweep < 3; sweep++) {
    for (let k = 0; k < w.byContext.length; k++) best(GRID, (v) => ({ ...w, byContext: w.byContext.map((x, j) => (j === k ? v : x)) }));
    best(HALF, (v) => ({ ...w, halfCount: v }));
    best(WS, (v) => ({ ...w, workspace: v }));
  }
  return w;
}

async function scoreSpans(engine: CompletionEngine, docs: { path: string; lang: string; ids: number[] }[]): Promise<Row[]> {
  const V = engine.info.architecture.vocab_size;
  const rows: Row[] = [];
  for (const [fi, d] of docs.entries()) {
    if (d.ids.length < SPAN + 32) continue;
    const dir = path.posix.dirname(d.path);
    const ws = docs.filter((o) => o !== d && o.lang === d.lang && path.posix.dirname(o.path) === dir).slice(0, 20).map((o) => new TokenChunk(Uint32Array.from(o.ids)));
    // One span per file, in its second half, so it has left context and often text after it.
    const h = Math.max(32, Math.floor(d.ids.length * 0.6) - SPAN);
    const file = [new TokenChunk(Uint32Array.from(d.ids.slice(0, h))), new TokenChunk(Uint32Array.from(d.ids.slice(h + SPAN)))];
    const s0 = Math.max(0, h - LEFT);
    engine.reset();
    const r = await engine.model.forward(d.ids.slice(s0, h + SPAN - 1), 0.5, true);
    for (let i = h; i < h + SPAN; i++) {
      const row = r.logits.subarray((i - s0 - 1) * V, (i - s0) * V);
      let max = -Infinity;
      for (let j = 0; j < V; j++) if (row[j] > max) max = row[j];
      let sum = 0;
      for (let j = 0; j < V; j++) sum += Math.exp(row[j] - max);
      const tok = d.ids[i];
      const ctx = d.ids.slice(Math.max(0, i - MAX_CONTEXT), i);
      rows.push({ pm: Math.exp(row[tok] - max) / sum, file: scored(lookup(file, ctx), tok), ws: scored(lookup(ws, ctx), tok), bytes: engine.tokenizer.tokenBytes(tok).length, fold: fi % 2 });
    }
  }
  engine.reset();
  return rows;
}

async function main(): Promise<void> {
  const root = packageRoot();
  const valPath = path.resolve(root, arg('--val', 'data/corpus/val.jsonl'));
  const engine = await CompletionEngine.load({ modelDir: path.resolve(root, arg('--model', defaultModelDir())), precision: 'q4', provider: 'cpu' });
  const raw: { path: string; lang: string; text: string }[] = [];
  for await (const d of readDocs(valPath)) raw.push(d);
  const encoded = await engine.tokenizer.encodeMany(raw.map((d) => d.text));
  const docs = raw.map((d, i) => ({ path: d.path, lang: d.lang, ids: encoded[i] }));
  // --weights JSON skips the log-loss tuning and only checks those weights on completions.
  const given = arg('--weights', '');
  const rows = given ? [] : await scoreSpans(engine, docs);
  const folds = given ? [] : [0, 1].map((f) => {
    const w = tune(rows.filter((r) => r.fold !== f));
    const test = rows.filter((r) => r.fold === f);
    return { tunedOnOtherFold: w, modelAlone: bitsPerByte(test, undefined), fileCache: bitsPerByte(test, { ...w, workspace: 0 }), fileAndWorkspace: bitsPerByte(test, w) };
  });
  const weights: CacheWeights = given ? JSON.parse(given) : tune(rows);
  console.log(`${rows.length} tokens scored; weights: ${JSON.stringify(weights)}`);
  for (const [i, f] of folds.entries()) console.log(`fold ${i}: bits/byte model ${f.modelAlone.toFixed(3)}, + file cache ${f.fileCache.toFixed(3)}, + both ${f.fileAndWorkspace.toFixed(3)}`);
  // Greedy check on validation completion cases.
  const rnd = mulberry32(7);
  const all: EvalCase[] = raw.flatMap((d) => casesFromText(d.text, rnd, d.path).map((c) => ({ ...c, path: d.path, lang: d.lang })));
  const n = Number(arg('--cases', '150'));
  const step = Math.max(1, Math.floor(all.length / n));
  const cases = all.filter((_, i) => i % step === 0).slice(0, n);
  const greedy: Record<string, { exactMatch: number; editSimilarity: number }> = {};
  const alone = summarize((await runWithCaches(engine, cases, MODEL_ALONE)).rows);
  greedy['model alone'] = { exactMatch: alone.exactMatch, editSimilarity: alone.editSimilarity };
  for (const scale of arg('--scales', '0.5,1,1.5').split(',').map(Number)) {
    const w = { ...weights, byContext: weights.byContext.map((x) => Math.min(0.95, x * scale)) };
    const s = summarize((await runWithCaches(engine, cases, { weights: w, workspace: true, snippetTokens: 0 })).rows);
    greedy[`weights x${scale}`] = { exactMatch: s.exactMatch, editSimilarity: s.editSimilarity };
  }
  // The weights that ship, where they differ from the ones just tuned.
  if (JSON.stringify(weights) !== JSON.stringify(DEFAULT_CACHE_WEIGHTS)) {
    const s = summarize((await runWithCaches(engine, cases, { weights: DEFAULT_CACHE_WEIGHTS, workspace: true, snippetTokens: 0 })).rows);
    greedy['shipped weights (DEFAULT_CACHE_WEIGHTS)'] = { exactMatch: s.exactMatch, editSimilarity: s.editSimilarity };
  }
  // The identifier completion that comes with the caches, off and at its defaults (x1 above).
  const noWords = summarize((await runWithCaches(engine, cases, { weights, words: { ...DEFAULT_WORD_WEIGHTS, max: 0 }, workspace: true, snippetTokens: 0 })).rows);
  greedy['weights x1, identifier completion off'] = { exactMatch: noWords.exactMatch, editSimilarity: noWords.editSimilarity };
  // Snippet budgets, checked here on validation cases, never on held-out ones.
  for (const snippetTokens of arg('--snippets', '64,128').split(',').map(Number)) {
    const s = summarize((await runWithCaches(engine, cases, { workspace: true, snippetTokens })).rows);
    greedy[`snippet ${snippetTokens} tokens`] = { exactMatch: s.exactMatch, editSimilarity: s.editSimilarity };
  }
  for (const [k, g] of Object.entries(greedy)) console.log(`${cases.length} validation cases, ${k}: exact ${(100 * g.exactMatch).toFixed(1)}%, edit sim ${(100 * g.editSimilarity).toFixed(1)}%`);
  const out = path.resolve(root, arg('--out', 'docs/reports/cache-tuning.json'));
  fs.writeFileSync(out, JSON.stringify({ model: engine.info.model, modelSha256: engine.pkg.manifest.files[engine.info.precision]?.sha256, val: path.relative(root, valPath), tokens: rows.length, minContext: MIN_CONTEXT, weights, folds, greedy }, null, 1));
}

if (require.main === module) void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
