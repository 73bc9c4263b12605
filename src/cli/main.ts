// mod-complete: the engine outside VS Code.
//
//   mod-complete complete --file F --line L --column C [--json]
//   mod-complete eval --cases F.jsonl [--json]
//   mod-complete bench [--json] [--quick]
//   mod-complete verify
//
// Common options: --model DIR, --precision q4|float, --provider auto|cpu|cuda|webgpu|dml|coreml,
// --budget quality|balanced|fast|full, --threshold X, --mode auto|line|multiline, --max-tokens N.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineClient } from '../engine/client';
import { readDocument, splitAtCursor } from '../engine/document';
import { bitsPerByte } from '../engine/bpb';
import { COMPUTE_BUDGETS, ComputeBudget } from '../engine/budgets';
import { CompletionEngine, CompletionRequest, EngineInfo, LoadOptions } from '../engine/engine';
import { EngineError } from '../engine/errors';
import { EvalCase, parseCases, runCases, summarize } from '../engine/evaluate';
import { loadModelPackage, verifyHashes } from '../engine/manifest';
import { defaultModelDir } from '../engine/paths';
import type { ProviderChoice } from '../engine/providers';
import type { CompletionMode } from '../engine/stop';
import { runBench } from './bench';

export interface Args { cmd: string; flags: Map<string, string | true> }

export function parseArgs(argv: string[]): Args {
  const flags = new Map<string, string | true>();
  const [cmd = 'help', ...rest] = argv;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (!a.startsWith('--')) throw new EngineError('input', `Unexpected argument "${a}".`);
    const next = rest[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      flags.set(a.slice(2), next);
      i++;
    } else flags.set(a.slice(2), true);
  }
  return { cmd, flags };
}

function str(a: Args, name: string): string | undefined {
  const v = a.flags.get(name);
  if (v === true) throw new EngineError('input', `--${name} needs a value.`);
  return v;
}

function num(a: Args, name: string): number | undefined {
  const v = str(a, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new EngineError('input', `--${name} must be a number, got "${v}".`);
  return n;
}

function loadOptions(a: Args): LoadOptions {
  return {
    modelDir: path.resolve(str(a, 'model') ?? defaultModelDir()),
    precision: (str(a, 'precision') ?? 'q4') as LoadOptions['precision'],
    provider: (str(a, 'provider') ?? 'auto') as ProviderChoice,
    threads: num(a, 'threads') ?? 1,
  };
}

function requestOptions(a: Args): Partial<CompletionRequest> {
  const budget = str(a, 'budget');
  if (budget !== undefined && !(budget in COMPUTE_BUDGETS)) throw new EngineError('input', `--budget must be one of ${Object.keys(COMPUTE_BUDGETS).join(', ')}.`);
  return {
    budget: budget as ComputeBudget | undefined,
    threshold: num(a, 'threshold'),
    mode: (str(a, 'mode') ?? 'auto') as CompletionMode | 'auto',
    maxTokens: num(a, 'max-tokens'),
  };
}

async function withClient<T>(a: Args, fn: (c: EngineClient, info: EngineInfo) => Promise<T>): Promise<T> {
  const client = new EngineClient();
  try {
    const info = await client.load(loadOptions(a));
    const passed = info.attempts.filter((x) => !x.ok).map((x) => `${x.provider}: ${x.reason}`);
    if (passed.length && !a.flags.has('json')) console.error(`[provider ${info.provider}; passed over ${passed.join('; ')}]`);
    return await fn(client, info);
  } finally {
    await client.dispose();
  }
}

async function complete(a: Args): Promise<void> {
  const file = str(a, 'file');
  const line = num(a, 'line');
  const column = num(a, 'column');
  if (!file || line === undefined || column === undefined) throw new EngineError('input', 'complete needs --file, --line and --column (1-based).');
  const text = readDocument(file);
  const { prefix, suffix } = splitAtCursor(text, line, column);
  await withClient(a, async (c, info) => {
    const r = await c.complete({ path: file, prefix, suffix, ...requestOptions(a) });
    if (a.flags.has('json')) {
      const { compute, timing } = r;
      console.log(JSON.stringify({
        completion: r.text, mode: r.mode, tokens: r.tokens, stopReason: r.stopReason,
        flops: compute.flops, denseFlops: compute.denseFlops, computeSaved: compute.saved,
        kvEntriesSaved: compute.kvEntriesSaved, latencyMs: r.queueMs + timing.totalMs, queueMs: r.queueMs,
        prefillMs: timing.prefillMs, decodeMs: timing.decodeMs, tokensPerSecond: timing.tokensPerSecond,
        promptTokens: timing.promptTokens, threshold: r.threshold, provider: r.provider, precision: r.precision,
        providerAttempts: info.attempts,
        perBlock: compute.perBlock,
      }));
    } else {
      process.stdout.write(r.text + '\n');
      console.error(`[${r.tokens} tokens, ${(r.queueMs + r.timing.totalMs).toFixed(0)} ms, ${r.timing.tokensPerSecond.toFixed(0)} tok/s, ` +
        `compute saved ${(100 * r.compute.saved).toFixed(1)}% vs every block on, ${r.provider}/${r.precision}]`);
    }
  });
}

async function evaluate(a: Args): Promise<void> {
  const file = str(a, 'cases');
  if (!file) throw new EngineError('input', 'eval needs --cases F.jsonl.');
  let cases: EvalCase[];
  try {
    cases = parseCases(fs.readFileSync(file, 'utf8'), file);
  } catch (e) {
    throw new EngineError('input', (e as Error).message);
  }
  await withClient(a, async (c) => {
    const rows = await runCases(cases, async (k, mode) => {
      const r = await c.complete({ path: k.path ?? k.id, prefix: k.prefix, suffix: k.suffix, ...requestOptions(a), mode });
      return { text: r.text, saved: r.compute.saved, ms: r.queueMs + r.timing.totalMs };
    });
    const report = summarize(rows);
    if (a.flags.has('json')) console.log(JSON.stringify(a.flags.has('details') ? { ...report, details: rows } : report));
    else {
      console.log(`cases ${report.cases}: exact match ${(100 * report.exactMatch).toFixed(1)}%, edit similarity ${(100 * report.editSimilarity).toFixed(1)}%, ` +
        `compute saved ${(100 * report.computeSaved).toFixed(1)}%, latency p50 ${report.p50Ms.toFixed(0)} ms, p95 ${report.p95Ms.toFixed(0)} ms`);
      for (const [k, g] of Object.entries(report.groups)) console.log(`  ${k.padEnd(24)} ${String(g.cases).padStart(4)} cases  exact ${(100 * g.exactMatch).toFixed(1).padStart(5)}%  edit sim ${(100 * g.editSimilarity).toFixed(1)}%`);
    }
  });
}

const HELP = `mod-complete <command> [options]
  complete --file F --line L --column C [--json]   complete at a 1-based cursor
  eval --cases F.jsonl [--json]                    exact match / edit similarity on {id,prefix,suffix,target} lines
  bench [--json] [--quick]                         routed vs every-block-on, quantized vs float, prefill, prompt reuse
  bpb --tokens F [--windows N] [--json]            validation bits per byte with predictor routing
  verify                                           check the model files against their manifest hashes
options: --model DIR --precision q4|float --provider auto|cpu|cuda|webgpu|dml|coreml
         --budget quality|balanced|fast|full --threshold X --mode auto|line|multiline --max-tokens N --threads N`;

export async function main(argv: string[]): Promise<number> {
  try {
    const a = parseArgs(argv);
    switch (a.cmd) {
      case 'complete':
        await complete(a);
        break;
      case 'eval':
        await evaluate(a);
        break;
      case 'bench': {
        const report = await runBench({ ...loadOptions(a), quick: a.flags.has('quick') });
        console.log(a.flags.has('json') ? JSON.stringify(report) : report.table);
        break;
      }
      case 'bpb': {
        const file = str(a, 'tokens');
        if (!file) throw new EngineError('input', 'bpb needs --tokens FILE (uint16 token ids, as written by npm run shards).');
        const buf = fs.readFileSync(file);
        const tokens = new Uint16Array(buf.buffer, buf.byteOffset, buf.length >> 1);
        const engine = await CompletionEngine.load(loadOptions(a));
        const thr = num(a, 'threshold') ?? COMPUTE_BUDGETS[(str(a, 'budget') ?? 'balanced') as ComputeBudget];
        const r = await bitsPerByte(engine, tokens, num(a, 'windows') ?? 64, num(a, 'seq-len') ?? engine.info.architecture.seq_len, thr);
        console.log(a.flags.has('json') ? JSON.stringify({ ...r, threshold: thr, precision: engine.info.precision }) :
          `${r.bitsPerByte.toFixed(4)} bits/byte over ${r.tokens} tokens (${engine.info.precision}, threshold ${thr}, routed ${(100 * r.routedFraction).toFixed(1)}%)`);
        break;
      }
      case 'verify': {
        const pkg = loadModelPackage(loadOptions(a).modelDir);
        verifyHashes(pkg);
        console.log(`${pkg.dir}: all files match manifest.json`);
        break;
      }
      default:
        console.log(HELP);
        return a.cmd === 'help' || a.cmd === '--help' ? 0 : 2;
    }
    return 0;
  } catch (e) {
    console.error(`mod-complete: ${e instanceof Error ? e.message : String(e)}`);
    return e instanceof EngineError && e.code === 'input' ? 2 : 1;
  }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
