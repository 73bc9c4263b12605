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
import { argmax, CompletionEngine, LoadOptions } from '../engine/engine';
import { median } from '../engine/metrics';
import { packageRoot } from '../engine/paths';

export interface BenchOptions extends LoadOptions { quick?: boolean }

const ROUTED = 0.5;
const EVERY_BLOCK_ON = -1;

/** Source text to build prompts from: the engine's own code, concatenated. */
function benchText(): string {
  const dir = path.join(packageRoot(), 'src', 'engine');
  return fs.readdirSync(dir).filter((f) => f.endsWith('.ts')).sort().map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n');
}

export interface DecodeRun { tokensPerSecond: number; flops: number; denseFlops: number; routedFraction: number }

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

export async function runBench(opts: BenchOptions) {
  const rounds = opts.quick ? 2 : 5;
  const n = opts.quick ? 32 : 128;
  const text = benchText();
  const engines = {
    q4: await CompletionEngine.load({ ...opts, precision: 'q4' }),
    float: await CompletionEngine.load({ ...opts, precision: 'float' }),
  };
  const all = await engines.q4.tokenizer.encode(text);
  const prompt256 = all.slice(0, 256);
  const stream = all.slice(256, 256 + n);
  const decode: Record<string, { routed: DecodeRun[]; full: DecodeRun[] }> = {};
  for (const [name, e] of Object.entries(engines)) {
    decode[name] = { routed: [], full: [] };
    await decodeRun(e, prompt256, stream.slice(0, 8), ROUTED); // warm-up
    for (let i = 0; i < rounds; i++) {
      // Alternate the order so drift in machine load hits both sides alike.
      const order = i % 2 ? [EVERY_BLOCK_ON, ROUTED] : [ROUTED, EVERY_BLOCK_ON];
      for (const thr of order) decode[name][thr === ROUTED ? 'routed' : 'full'].push(await decodeRun(e, prompt256, stream, thr));
    }
  }
  const summary = (runs: DecodeRun[]) => ({
    tokensPerSecond: median(runs.map((r) => r.tokensPerSecond)),
    flopsPerToken: runs[0].flops / n,
    denseFlopsPerToken: runs[0].denseFlops / n,
    routedFraction: runs[0].routedFraction,
  });
  const decodeReport = Object.fromEntries(Object.entries(decode).map(([k, v]) => {
    const routed = summary(v.routed);
    const full = summary(v.full);
    return [k, { routed, everyBlockOn: full, speedup: routed.tokensPerSecond / full.tokensPerSecond, flopsRatio: full.flopsPerToken / routed.flopsPerToken }];
  }));
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
    `model ${engines.q4.info.model}, provider ${engines.q4.info.provider}, ${n} tokens of real code decoded one by one after a 256-token prompt, ${rounds} paired rounds`,
    `decode tok/s       routed (thr ${ROUTED})   every block on   speedup   FLOPs/token routed vs on   routed fraction`,
    ...(['q4', 'float'] as const).map((k) => {
      const d = decodeReport[k];
      return `  ${k.padEnd(6)}          ${d.routed.tokensPerSecond.toFixed(0).padStart(8)}   ${d.everyBlockOn.tokensPerSecond.toFixed(0).padStart(14)}   ${d.speedup.toFixed(2).padStart(6)}x   ${(d.routed.flopsPerToken / 1e6).toFixed(2)}M vs ${(d.everyBlockOn.flopsPerToken / 1e6).toFixed(2)}M (${d.flopsRatio.toFixed(2)}x)   ${(100 * d.routed.routedFraction).toFixed(1)}%`;
    }),
    `quantized vs float decode (routed): ${(q.routed.tokensPerSecond / f.routed.tokensPerSecond).toFixed(2)}x`,
    `prefill ms          256      512     1024`,
    ...(['q4', 'float'] as const).map((k) => `  ${k.padEnd(6)} ${[256, 512, 1024].map((l) => prefill[k][l].toFixed(1).padStart(8)).join(' ')}`),
    `time to first token after a 1-char edit: ${ttftReport.reuseMs.toFixed(1)} ms with prompt reuse vs ${ttftReport.coldMs.toFixed(1)} ms cold (${(100 * ttftReport.ratio).toFixed(1)}%)`,
    `peak RSS ${peakRssMB.toFixed(0)} MB`,
  ].join('\n');
  return { decodeSpeedup: q.speedup, decode: decodeReport, prefillMs: prefill, ttft: ttftReport, peakRssMB, provider: engines.q4.info.provider, table };
}
