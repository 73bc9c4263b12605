// mod-complete: the engine outside VS Code. The commands, the options each one reads and the
// values each option accepts are in COMMANDS and OPTIONS below (HELP is built from them).
import '../engine/telemetry'; // first: turns onnxruntime telemetry off before it loads
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineClient } from '../engine/client';
import { readDocument, splitAtCursor } from '../engine/document';
import { bitsPerByte, readTokens } from '../engine/bpb';
import { COMPUTE_BUDGETS, ComputeBudget } from '../engine/budgets';
import { CompletionEngine, CompletionRequest, EngineInfo, LoadOptions, MAX_TIME_LIMIT_MS, RequestBudgets } from '../engine/engine';
import { EngineError } from '../engine/errors';
import { engineCompleter, EvalCase, parseCases, runCases, summarize } from '../engine/evaluate';
import { loadModelPackage, PRECISIONS, verifyHashes } from '../engine/manifest';
import { defaultModelDir } from '../engine/paths';
import { PROVIDER_CHOICES } from '../engine/providers';
import { COMPLETION_MODES } from '../engine/stop';
import { runBench } from './bench';

/** Checks one option's value and converts it; throws an input error that names the option. */
type Parse<T> = (v: string, flag: string) => T;

const text: Parse<string> = (v) => v;

function oneOf<T extends string>(choices: readonly T[]): Parse<T> {
  return (v, flag) => {
    const hit = choices.find((c) => c === v);
    if (hit === undefined) throw new EngineError('input', `${flag} must be one of ${choices.join(', ')}; got "${v}".`);
    return hit;
  };
}

const finite: Parse<number> = (v, flag) => {
  // Number('') is 0: an empty value must not pass as a number.
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(n)) throw new EngineError('input', `${flag} must be a number, got "${v}".`);
  return n;
};

/** Whole numbers from `min` up; large ones pass (the engine clamps budgets to the model's window). */
function whole(min: number): Parse<number> {
  return (v, flag) => {
    const n = /^[0-9]+$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min) throw new EngineError('input', `${flag} must be a whole number of at least ${min}, got "${v}".`);
    return n;
  };
}
const count = whole(1);

const BUDGETS = Object.keys(COMPUTE_BUDGETS) as ComputeBudget[];
const MODES = ['auto', ...COMPLETION_MODES] as const;

/** Every option any command reads: a switch takes no value, the others parse theirs. */
const OPTIONS = {
  model: text,
  precision: oneOf(PRECISIONS),
  provider: oneOf(PROVIDER_CHOICES),
  threads: count,
  budget: oneOf(BUDGETS),
  threshold: finite,
  mode: oneOf(MODES),
  'max-tokens': count,
  'max-lines': count,
  'prefix-tokens': whole(0),
  'suffix-tokens': whole(0),
  'snippet-tokens': whole(0),
  'time-limit': count,
  file: text,
  line: count,
  column: count,
  cases: text,
  tokens: text,
  windows: count,
  'seq-len': count,
  json: 'switch',
  details: 'switch',
  quick: 'switch',
  'plain-dense': text,
} as const;
type Option = keyof typeof OPTIONS;
type OptionValue<K extends Option> = (typeof OPTIONS)[K] extends Parse<infer T> ? T : true;

const LOAD: Option[] = ['model', 'precision', 'provider', 'threads'];
/** The request's budgets by option; the engine fits them to the model's window. */
const BUDGET_OPTIONS = {
  'max-tokens': 'maxTokens',
  'max-lines': 'maxLines',
  'prefix-tokens': 'prefixTokens',
  'suffix-tokens': 'suffixTokens',
  'snippet-tokens': 'snippetTokens',
  'time-limit': 'timeLimitMs',
} as const satisfies Partial<Record<Option, keyof RequestBudgets>>;
type BudgetOption = keyof typeof BUDGET_OPTIONS;
const BUDGET_FLAGS = Object.keys(BUDGET_OPTIONS) as BudgetOption[];
const REQUEST: Option[] = ['budget', 'threshold', 'mode', ...BUDGET_FLAGS];
/** The options each command reads; anything else is refused rather than silently ignored. */
const COMMANDS: Record<string, Option[]> = {
  complete: [...LOAD, ...REQUEST, 'file', 'line', 'column', 'json'],
  eval: [...LOAD, ...REQUEST, 'cases', 'json', 'details'],
  // bench loads both precisions itself and measures fixed thresholds.
  bench: ['model', 'provider', 'threads', 'json', 'quick', 'plain-dense'],
  bpb: [...LOAD, 'budget', 'threshold', 'tokens', 'windows', 'seq-len', 'json'],
  verify: ['model'],
};

export interface Args { cmd: string; flags: Map<string, string | number | true> }

/** Parses and validates the command line, so a bad value fails before any model is loaded. */
export function parseArgs(argv: string[]): Args {
  const flags: Args['flags'] = new Map();
  const [cmd = 'help', ...rest] = argv;
  const allowed = COMMANDS[cmd];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (!a.startsWith('--')) throw new EngineError('input', `Unexpected argument "${a}".`);
    // An unknown command prints the help; its options need no message of their own.
    if (!allowed) continue;
    const name = allowed.find((o) => o === a.slice(2));
    if (name === undefined) throw new EngineError('input', `Unknown option ${a} for ${cmd}; it takes ${allowed.map((o) => `--${o}`).join(', ')}.`);
    if (flags.has(name)) throw new EngineError('input', `${a} is given twice.`);
    const parse = OPTIONS[name];
    const next = rest[i + 1];
    if (parse === 'switch') {
      if (next !== undefined && !next.startsWith('--')) throw new EngineError('input', `${a} takes no value, got "${next}".`);
      flags.set(name, true);
      continue;
    }
    if (next === undefined || next.startsWith('--')) throw new EngineError('input', `${a} needs a value.`);
    flags.set(name, parse(next, a));
    i++;
  }
  return { cmd, flags };
}

/** An option's value as its parser returned it (parseArgs has checked it). */
function opt<K extends Option>(a: Args, name: K): OptionValue<K> | undefined {
  return a.flags.get(name) as OptionValue<K> | undefined;
}

function loadOptions(a: Args): LoadOptions {
  return {
    modelDir: path.resolve(opt(a, 'model') ?? defaultModelDir()),
    precision: opt(a, 'precision') ?? 'q4',
    provider: opt(a, 'provider') ?? 'auto',
    threads: opt(a, 'threads') ?? 1,
  };
}

function requestOptions(a: Args): Partial<CompletionRequest> {
  const req: Partial<CompletionRequest> = { budget: opt(a, 'budget'), threshold: opt(a, 'threshold'), mode: opt(a, 'mode') ?? 'auto' };
  for (const flag of BUDGET_FLAGS) req[BUDGET_OPTIONS[flag]] = opt(a, flag);
  return req;
}

/** The budget options the engine lowered to fit the model, as `--flag asked -> used`. */
function clampedOptions(a: Args, used: RequestBudgets): string[] {
  return BUDGET_FLAGS.flatMap((flag) => {
    const asked = opt(a, flag);
    const got = used[BUDGET_OPTIONS[flag]];
    return asked !== undefined && asked !== got ? [`--${flag} ${asked} -> ${got}`] : [];
  });
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
  const file = opt(a, 'file');
  const line = opt(a, 'line');
  const column = opt(a, 'column');
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
        promptTokens: timing.promptTokens, budgets: r.budgets, threshold: r.threshold, provider: r.provider, precision: r.precision,
        providerAttempts: info.attempts,
        perBlock: compute.perBlock,
      }));
    } else {
      const clamped = clampedOptions(a, r.budgets);
      if (clamped.length) console.error(`[clamped to the model's ${info.architecture.seq_len}-token window: ${clamped.join(', ')}]`);
      process.stdout.write(r.text + '\n');
      console.error(`[${r.tokens} tokens, ${(r.queueMs + r.timing.totalMs).toFixed(0)} ms, ${r.timing.tokensPerSecond.toFixed(0)} tok/s, ` +
        `compute saved ${(100 * r.compute.saved).toFixed(1)}% vs every block on, ${r.provider}/${r.precision}]`);
    }
  });
}

async function evaluate(a: Args): Promise<void> {
  const file = opt(a, 'cases');
  if (!file) throw new EngineError('input', 'eval needs --cases F.jsonl.');
  let cases: EvalCase[];
  try {
    cases = parseCases(fs.readFileSync(file, 'utf8'), file);
  } catch (e) {
    throw new EngineError('input', (e as Error).message);
  }
  await withClient(a, async (c) => {
    const rows = await runCases(cases, engineCompleter((req) => c.complete(req), requestOptions(a)));
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
  complete --file F --line L --column C [--json]        complete at a 1-based cursor
  eval --cases F.jsonl [--json] [--details]             exact match / edit similarity on {id,prefix,suffix,target} lines
  bench [--json] [--quick] [--plain-dense DIR]          routed vs the plain dense graph (npm run report:bench makes DIR) and vs every
                                                        block on, quantized vs float, prefill, prompt reuse
  bpb --tokens F [--windows N] [--seq-len N] [--json]   validation bits per byte with predictor routing
  verify                                                check the model files against their manifest hashes
options: --model DIR --precision ${PRECISIONS.join('|')} --provider ${PROVIDER_CHOICES.join('|')} --threads N
         --budget ${BUDGETS.join('|')} --threshold X --mode ${MODES.join('|')} --max-tokens N --max-lines N
         --prefix-tokens N --suffix-tokens N --snippet-tokens N --time-limit MS (complete and eval; budgets over
         what the model's window allows are lowered to fit, --time-limit to at most ${MAX_TIME_LIMIT_MS} ms)
         (each command takes only those it uses; bench and verify: --model, and bench --provider --threads)`;

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
        const report = await runBench({ ...loadOptions(a), quick: a.flags.has('quick'), plainDense: opt(a, 'plain-dense') });
        console.log(a.flags.has('json') ? JSON.stringify(report) : report.table);
        break;
      }
      case 'bpb': {
        const file = opt(a, 'tokens');
        if (!file) throw new EngineError('input', 'bpb needs --tokens FILE (uint16 token ids, as written by npm run shards).');
        const tokens = readTokens(file);
        const engine = await CompletionEngine.load(loadOptions(a));
        const seqLen = opt(a, 'seq-len') ?? engine.info.architecture.seq_len;
        // Each window scores seqLen next-token predictions, so it needs seqLen + 1 tokens.
        if (tokens.length <= seqLen) throw new EngineError('input', `${file} holds ${tokens.length} tokens; --seq-len ${seqLen} needs at least ${seqLen + 1}.`);
        const thr = opt(a, 'threshold') ?? COMPUTE_BUDGETS[opt(a, 'budget') ?? 'balanced'];
        const r = await bitsPerByte(engine, tokens, opt(a, 'windows') ?? 64, seqLen, thr);
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
