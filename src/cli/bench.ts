// `mod-complete bench`: side-by-side measurements in one run on the shipped model.
//  - decode tokens/s with predictor routing vs the same weights with every block on (paired,
//    alternating runs; medians), for the 4-bit and the float model, with the FLOPs the accounting
//    reports and the routed fraction actually measured;
//  - prefill time for 256/512/1024-token prompts;
//  - time to first token after a one-character edit at the cursor, with and without prompt reuse;
//  - peak memory.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ComputeMeter } from '../engine/accounting';
import { COMPUTE_BUDGETS } from '../engine/budgets';
import { argmax, CompletionEngine, LoadOptions } from '../engine/engine';
import { median } from '../engine/metrics';
import { EngineError } from '../engine/errors';
import { PLAIN_DENSE_SUFFIX } from '../engine/graph-io';
import { PRECISIONS } from '../engine/manifest';
import { packageRoot } from '../engine/paths';

export interface BenchOptions extends LoadOptions {
  quick?: boolean;
  /** The plain dense view of the same weights (training/export.py --plain-dense): the fair baseline. */
  plainDense?: string;
}

/** The shipped default budget's threshold. */
const ROUTED = COMPUTE_BUDGETS.balanced;
const EVERY_BLOCK_ON = -1;

/** Source text to build prompts from: the engine's own code, concatenated. */
function benchText(): string {
  const dir = path.join(packageRoot(), 'src', 'engine');
  return fs.readdirSync(dir).filter((f) => f.endsWith('.ts')).sort().map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n');
}

export interface DecodeRun { tokensPerSecond: number; flops: number; denseFlops: number; routedFraction: number }
interface DecodeSummary { tokensPerSecond: number; flopsPerToken: number; denseFlopsPerToken: number; routedFraction: number }
interface DecodeReport {
  routed: DecodeSummary;
  everyBlockOn: DecodeSummary;
  plainDense?: { tokensPerSecond: number; maxLogitDiff: number };
  /** Routed over the plain dense graph: the speed claim. */
  speedupVsDense?: number;
  /** Routed over the routed graph with every block on (still running predictors, If, gathers). */
  speedup: number;
  flopsRatio: number;
}

/**
 * Prefills `prompt`, then decodes `stream` one token at a time (teacher forcing: real code, so
 * the predictor routes as it does on real text rather than on a model's degenerate loops),
 * timing the decode only.
 */
export async function decodeRun(engine: CompletionEngine, prompt: number[], stream: number[], threshold: number): Promise<DecodeRun> {
  engine.reset();
  const arch = engine.info.architecture;
  const meter = new ComputeMeter(engine.pkg.manifest.flops, new Set(arch.routed_blocks), arch.n_layer);
  await engine.model.forward(prompt, threshold);
  let ran = 0;
  let slots = 0;
  const t0 = performance.now();
  for (const id of stream) {
    const pos = engine.model.length;
    const r = await engine.model.forward([id], threshold);
    // The step's logits would pick the next token; argmax them so the work matches generation.
    argmax(r.logits);
    meter.add(pos, r.steps[0], true);
    for (const b of arch.routed_blocks) {
      slots++;
      if (r.steps[0][b].ran) ran++;
    }
  }
  const ms = performance.now() - t0;
  const t = meter.totals();
  return { tokensPerSecond: (stream.length * 1000) / ms, flops: t.flops, denseFlops: t.denseFlops, routedFraction: ran / slots };
}

async function prefillMs(engine: CompletionEngine, prompt: number[], reps: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    engine.reset();
    const t0 = performance.now();
    await engine.model.forward(prompt, ROUTED);
    times.push(performance.now() - t0);
  }
  return median(times);
}

export type BenchReport = Awaited<ReturnType<typeof runBench>>;

/** The decode comparison as a markdown table (bench.md, the README and the model card show this one). */
export function benchTable(b: Pick<BenchReport, 'decode'>): string {
  const x = (v: number | undefined) => (v === undefined ? 'not measured' : `**${v.toFixed(2)}x**`);
  return ['| model | decode tok/s, MoD routing | plain dense graph, same weights | routed vs plain dense | every block on (routed graph) | routed vs every block on | FLOPs/token routed vs on | routed fraction |',
    '|---|---|---|---|---|---|---|---|',
    ...PRECISIONS.map((k) => {
      const d = b.decode[k];
      return `| ${k === 'q4' ? '4-bit (shipped default)' : 'float'} | ${d.routed.tokensPerSecond.toFixed(0)} | ${d.plainDense ? d.plainDense.tokensPerSecond.toFixed(0) : '–'} | ${x(d.speedupVsDense)} | ` +
        `${d.everyBlockOn.tokensPerSecond.toFixed(0)} | ${d.speedup.toFixed(2)}x | ${(d.routed.flopsPerToken / 1e6).toFixed(2)}M vs ${(d.everyBlockOn.flopsPerToken / 1e6).toFixed(2)}M (${d.flopsRatio.toFixed(2)}x) | ${(100 * d.routed.routedFraction).toFixed(1)}% |`;
    })].join('\n');
}

/** Largest logit difference after the same prompt: the plain dense graph must compute what "every block on" does. */
async function maxLogitDiff(a: CompletionEngine, b: CompletionEngine, prompt: number[]): Promise<number> {
  a.reset();
  b.reset();
  const x = (await a.model.forward(prompt, EVERY_BLOCK_ON)).logits;
  const y = (await b.model.forward(prompt, EVERY_BLOCK_ON)).logits;
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
  return d;
}

type Side = 'routed' | 'everyBlockOn' | 'plainDense';

export async function runBench(opts: BenchOptions) {
  const rounds = opts.quick ? 2 : 5;
  const n = opts.quick ? 32 : 128;
  const text = benchText();
  const engines = {
    q4: await CompletionEngine.load({ ...opts, precision: 'q4' }),
    float: await CompletionEngine.load({ ...opts, precision: 'float' }),
  };
  const plain = opts.plainDense
    ? { q4: await CompletionEngine.load({ ...opts, modelDir: opts.plainDense, precision: 'q4' }), float: await CompletionEngine.load({ ...opts, modelDir: opts.plainDense, precision: 'float' }) }
    : undefined;
  if (plain && plain.q4.info.model !== engines.q4.info.model + PLAIN_DENSE_SUFFIX) {
    throw new EngineError('input', `${opts.plainDense} holds ${plain.q4.info.model}, not the plain dense view of ${engines.q4.info.model} (npm run report:bench writes it).`);
  }
  const all = await engines.q4.tokenizer.encode(text);
  const prompt256 = all.slice(0, 256);
  const stream = all.slice(256, 256 + n);
  const sides: Side[] = plain ? ['routed', 'plainDense', 'everyBlockOn'] : ['routed', 'everyBlockOn'];
  const decode: Record<string, Record<Side, DecodeRun[]>> = {};
  for (const name of PRECISIONS) {
    const e = engines[name];
    const run = (side: Side, tokens: number[]) =>
      side === 'plainDense' ? decodeRun(plain![name], prompt256, tokens, EVERY_BLOCK_ON) : decodeRun(e, prompt256, tokens, side === 'routed' ? ROUTED : EVERY_BLOCK_ON);
    decode[name] = { routed: [], everyBlockOn: [], plainDense: [] };
    for (const side of sides) await run(side, stream.slice(0, 8)); // warm-up
    for (let i = 0; i < rounds; i++) {
      // Rotate the order so drift in machine load hits every side alike.
      for (let j = 0; j < sides.length; j++) {
        const side = sides[(i + j) % sides.length];
        decode[name][side].push(await run(side, stream));
      }
    }
  }
  const summary = (runs: DecodeRun[]) => ({
    tokensPerSecond: median(runs.map((r) => r.tokensPerSecond)),
    flopsPerToken: runs[0].flops / n,
    denseFlopsPerToken: runs[0].denseFlops / n,
    routedFraction: runs[0].routedFraction,
  });
  const decodeReport: Record<string, DecodeReport> = {};
  for (const name of PRECISIONS) {
    const v = decode[name];
    const routed = summary(v.routed);
    const full = summary(v.everyBlockOn);
    const dense = plain ? { tokensPerSecond: median(v.plainDense.map((r) => r.tokensPerSecond)), maxLogitDiff: await maxLogitDiff(engines[name], plain[name], prompt256) } : undefined;
    decodeReport[name] = {
      routed, everyBlockOn: full, plainDense: dense,
      speedupVsDense: dense ? routed.tokensPerSecond / dense.tokensPerSecond : undefined,
      speedup: routed.tokensPerSecond / full.tokensPerSecond, flopsRatio: full.flopsPerToken / routed.flopsPerToken,
    };
  }
  const prefill: Record<string, Record<number, number>> = {};
  for (const [name, e] of Object.entries(engines)) {
    prefill[name] = {};
    for (const len of [256, 512, 1024]) prefill[name][len] = await prefillMs(e, all.slice(0, len), opts.quick ? 1 : 3);
  }
  // Edit at the cursor: complete in the middle of a file, type one character, complete again.
  const e = engines.q4;
  const cut = text.indexOf('\n', Math.floor(text.length / 3)) + 1;
  const base = { path: 'src/engine/bench.ts', prefix: text.slice(0, cut) + '  const ', suffix: text.slice(cut), maxTokens: 1, mode: 'line' as const };
  const ttft = { reuse: [] as number[], cold: [] as number[] };
  for (let i = 0; i < rounds; i++) {
    await e.complete(base);
    const typed = { ...base, prefix: base.prefix + 'abcdefghij'[i] };
    ttft.reuse.push((await e.complete(typed)).timing.prefillMs);
    ttft.cold.push((await e.complete({ ...typed, noReuse: true })).timing.prefillMs);
  }
  const ttftReport = { reuseMs: median(ttft.reuse), coldMs: median(ttft.cold), ratio: median(ttft.reuse) / median(ttft.cold) };
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  const q = decodeReport.q4;
  const f = decodeReport.float;
  const table = [
    `model ${engines.q4.info.model}, provider ${engines.q4.info.provider}, ${n} tokens of real code decoded one by one after a 256-token prompt, ${rounds} rotated rounds`,
    `decode tok/s   routed (thr ${ROUTED})   plain dense   every block on   vs plain dense   vs every block on   FLOPs/token routed vs on   routed fraction`,
    ...PRECISIONS.map((k) => {
      const d = decodeReport[k];
      const dense = d.plainDense ? d.plainDense.tokensPerSecond.toFixed(0) : 'n/a';
      const vs = d.speedupVsDense !== undefined ? `${d.speedupVsDense.toFixed(2)}x` : 'n/a';
      return `  ${k.padEnd(6)}  ${d.routed.tokensPerSecond.toFixed(0).padStart(14)}   ${dense.padStart(11)}   ${d.everyBlockOn.tokensPerSecond.toFixed(0).padStart(14)}   ${vs.padStart(14)}   ${(d.speedup.toFixed(2) + 'x').padStart(17)}   ${(d.routed.flopsPerToken / 1e6).toFixed(2)}M vs ${(d.everyBlockOn.flopsPerToken / 1e6).toFixed(2)}M (${d.flopsRatio.toFixed(2)}x)   ${(100 * d.routed.routedFraction).toFixed(1)}%`;
    }),
    plain
      ? `plain dense graph = the same weights without predictors, If or gathers; its logits differ from every-block-on by at most ${PRECISIONS.map((k) => `${decodeReport[k].plainDense!.maxLogitDiff.toExponential(1)} (${k})`).join(', ')}`
      : 'plain dense baseline not measured: pass --plain-dense DIR (npm run report:bench writes it)',
    `quantized vs float decode (routed): ${(q.routed.tokensPerSecond / f.routed.tokensPerSecond).toFixed(2)}x`,
    `prefill ms          256      512     1024`,
    ...(['q4', 'float'] as const).map((k) => `  ${k.padEnd(6)} ${[256, 512, 1024].map((l) => prefill[k][l].toFixed(1).padStart(8)).join(' ')}`),
    `time to first token after a 1-char edit: ${ttftReport.reuseMs.toFixed(1)} ms with prompt reuse vs ${ttftReport.coldMs.toFixed(1)} ms cold (${(100 * ttftReport.ratio).toFixed(1)}%)`,
    `peak RSS ${peakRssMB.toFixed(0)} MB`,
  ].join('\n');
  return { decodeSpeedupVsDense: q.speedupVsDense, decodeSpeedup: q.speedup, decode: decodeReport, prefillMs: prefill, ttft: ttftReport, peakRssMB, provider: engines.q4.info.provider, table };
}
