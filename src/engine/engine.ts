// The completion engine: one loaded model, one sequence in its KV caches, and the pipeline
// context -> prompt -> generate -> account. It knows nothing of VS Code and runs wherever it is
// constructed (the worker thread in the product, in-process in tests and benchmarks).
import * as ort from 'onnxruntime-node';
import { ComputeMeter, ComputeTotals } from './accounting';
import { COMPUTE_BUDGETS, ComputeBudget } from './budgets';
import { EngineError } from './errors';
import { checkLoadedModel, loadModelPackage, ModelPackage, Precision } from './manifest';
import { ModelSession } from './model-session';
import { buildPrompt, CHARS_PER_TOKEN, PROMPT_OVERHEAD, prefixWindow, suffixWindow, type PromptSnippet } from './prompt';
import { bestSnippet, snippetQuery, type SnippetSource } from './snippets';
import { openSession, ProviderAttempt, ProviderChoice } from './providers';
import { SPECIAL_IDS } from './special-tokens';
import { applyStopRules, chooseMode, CompletionMode, stopContextFor } from './stop';
import { CodeTokenizer, TokenStreamDecoder } from './tokenizer';
import { TokenHealer } from './healing';
import { CacheMixer, type CacheUse, type CacheWeights } from './cache-mix';
import type { CompletionCaches } from './document-cache';
import { DEFAULT_WORD_WEIGHTS, partialWord, WordMixer, type WordWeights } from './word-cache';
import { tokenKinds, type TokenKind } from './token-kind';


export interface LoadOptions {
  modelDir: string;
  precision?: Precision;
  provider?: ProviderChoice;
  threads?: number;
}

export interface CompletionRequest {
  path: string;
  prefix: string;
  suffix: string;
  mode?: CompletionMode | 'auto';
  maxTokens?: number;
  maxLines?: number;
  budget?: ComputeBudget;
  /** Overrides the budget's threshold. */
  threshold?: number;
  prefixTokens?: number;
  suffixTokens?: number;
  /** Do not reuse the cached prompt (benchmarks of cold prefill). */
  noReuse?: boolean;
  /**
   * Text the completion may not open with (after whitespace): the comment marker when code was
   * asked for, since after an instruction comment a small model writes more comment lines.
   */
  avoidStart?: string;
  /** Mixing weights of the cache model (defaults: the tuned ones); only used with caches. */
  cacheWeights?: CacheWeights;
  /** Mix the caches into decoding (default true; false keeps them for snippets only). */
  cacheMix?: boolean;
  /** Weights of the identifier completion that comes with the caches (defaults: the tuned ones). */
  wordWeights?: WordWeights;
  /** Prompt tokens a retrieved snippet may take (0: none); default SNIPPET_TOKENS. */
  snippetTokens?: number;
  /** Milliseconds the completion may take before it stops with what it has; default DEFAULT_TIME_LIMIT_MS. */
  timeLimitMs?: number;
}

/** The budgets a completion runs with, after `requestBudgets` has fitted them to the model. */
export interface RequestBudgets {
  maxTokens: number;
  maxLines: number;
  prefixTokens: number;
  suffixTokens: number;
  snippetTokens: number;
  timeLimitMs: number;
}

/** A completion normally takes tens of milliseconds; this bounds a slow machine or a huge request. */
export const DEFAULT_TIME_LIMIT_MS = 5000;
/** The most a request may ask for: the worker runs one request at a time, the others wait. */
export const MAX_TIME_LIMIT_MS = 30_000;
/** Share of the window (after the prompt's fixed tokens) a completion may take: the rest is context. */
const MAX_COMPLETION_SHARE = 0.75;

const BUDGET_MINIMUMS = { maxTokens: 1, maxLines: 1, prefixTokens: 0, suffixTokens: 0, snippetTokens: 0, timeLimitMs: 1 } as const;

/** The request's value of a budget: undefined, or a whole number at least its minimum. */
function budgetOf(req: CompletionRequest, key: keyof RequestBudgets): number | undefined {
  const v: unknown = req[key];
  if (v === undefined) return undefined;
  const min = BUDGET_MINIMUMS[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new EngineError('input', `${key} must be a whole number of at least ${min}, got ${String(v)}.`);
  return v;
}

/**
 * Every budget of a request fitted to the model's `seqLen`-token window, in the one place all
 * callers (CLI, worker, extension) pass through: values below a budget's minimum, fractions and
 * non-numbers are refused; larger values are clamped, so prompt plus completion always fit the
 * window. The completion gets at most MAX_COMPLETION_SHARE of the window left after the prompt's
 * fixed tokens, prefix and suffix the rest (scaled down alike when together they ask for more),
 * a snippet at most half the prefix, lines at most one per token.
 */
export function requestBudgets(req: CompletionRequest, seqLen: number, mode: CompletionMode): RequestBudgets {
  const usable = seqLen - PROMPT_OVERHEAD; // at least 2: the manifest check refuses smaller windows
  const maxTokens = Math.min(budgetOf(req, 'maxTokens') ?? (mode === 'line' ? 48 : 160), Math.floor(usable * MAX_COMPLETION_SHARE));
  const room = usable - maxTokens;
  // By default a quarter of the room for the suffix, the rest for the prefix.
  const suffix = Math.min(budgetOf(req, 'suffixTokens') ?? Math.floor(room * 0.25), room);
  const prefix = Math.min(budgetOf(req, 'prefixTokens') ?? room - Math.floor(room * 0.25), room);
  const scale = prefix + suffix > room ? room / (prefix + suffix) : 1;
  const prefixTokens = Math.floor(prefix * scale);
  return {
    maxTokens,
    maxLines: Math.min(budgetOf(req, 'maxLines') ?? 8, maxTokens),
    prefixTokens,
    suffixTokens: Math.floor(suffix * scale),
    // A snippet's tokens come out of the prefix budget.
    snippetTokens: Math.min(budgetOf(req, 'snippetTokens') ?? SNIPPET_TOKENS, Math.floor(prefixTokens / 2)),
    timeLimitMs: Math.min(budgetOf(req, 'timeLimitMs') ?? DEFAULT_TIME_LIMIT_MS, MAX_TIME_LIMIT_MS),
  };
}

/**
 * Prompt tokens of the snippet retrieved from outside the window (0 ships it off): measured on
 * held-out cases in docs/reports/cache.md.
 */
export const SNIPPET_TOKENS = 0;

/** Characters of the current file on each side of the window searched for a snippet. */
const SNIPPET_SEARCH_CHARS = 64 * 1024;

/** A display path for a document URI: its last three path segments, as training headers name files. */
function uriPath(uri: string): string {
  return uri.replace(/^[a-z][\w+.-]*:\/*/i, '').split('/').slice(-3).join('/');
}

/**
 * The snippet most like the lines above the cursor, from the current file outside the prompt's
 * windows (as cut with the budgets left after the snippet) and from the other open files.
 */
function retrieveSnippet(req: CompletionRequest, budgets: { prefixTokens: number; suffixTokens: number }, maxTokens: number, caches?: CompletionCaches): PromptSnippet | undefined {
  const before = req.prefix.length - prefixWindow(req.prefix, budgets.prefixTokens * CHARS_PER_TOKEN).length;
  const after = suffixWindow(req.suffix, budgets.suffixTokens * CHARS_PER_TOKEN).length;
  const sources: SnippetSource[] = [
    { path: req.path, text: req.prefix.slice(Math.max(0, before - SNIPPET_SEARCH_CHARS), before) },
    { path: req.path, text: req.suffix.slice(after, after + SNIPPET_SEARCH_CHARS) },
  ].filter((s) => s.text.length > 0);
  // An open file's text is joined from its chunks only when its index is not kept already.
  for (const d of caches?.workspace ?? []) if (d.length > 0) sources.push({ path: uriPath(d.uri), key: `${d.uri}@${d.version}`, get text() { return d.text; } });
  const found = sources.length ? bestSnippet(snippetQuery(req.prefix), sources) : undefined;
  return found && { path: found.path, text: found.text, maxTokens };
}

export interface ComputeGrid {
  /** Text of each generated token. */
  tokens: string[];
  /** Indices of the routed blocks (columns). */
  blocks: number[];
  /** ran[t][j]: routed block blocks[j] ran for generated token t. */
  ran: number[][];
  /** Kind of each generated token (read after the text before the cursor). */
  kinds: TokenKind[];
}

export interface CompletionResult {
  text: string;
  mode: CompletionMode;
  tokens: number;
  stopReason: 'end-of-text' | 'stop-rule' | 'max-tokens' | 'time-limit';
  /** The budgets it ran with (the request's, clamped to the model's window). */
  budgets: RequestBudgets;
  threshold: number;
  provider: string;
  precision: Precision;
  compute: ComputeTotals & { prompt: ComputeTotals; generation: ComputeTotals; grid: ComputeGrid };
  /** What the cache model used and changed; absent when the completion ran without caches. */
  cache?: CacheUse;
  /** The snippet put in the prompt, if any. */
  snippet?: { path: string; tokens: number };
  timing: {
    prefillMs: number;
    decodeMs: number;
    totalMs: number;
    tokensPerSecond: number;
    promptTokens: number;
    reusedTokens: number;
    prefilledTokens: number;
  };
}

export interface EngineInfo {
  model: string;
  provider: string;
  precision: Precision;
  attempts: ProviderAttempt[];
  architecture: ModelPackage['manifest']['architecture'];
  loadMs: number;
}

/** Index of the largest of the first n logits (greedy decoding), skipping those flagged in `banned`. */
export function argmax(a: Float32Array, n = a.length, banned?: Uint8Array): number {
  let best = -1;
  for (let i = 0; i < n; i++) if (!banned?.[i] && (best < 0 || a[i] > a[best])) best = i;
  return best;
}

export class CompletionEngine {
  private seq: number[] = [];
  /**
   * Threshold `seq` was fed with: routed blocks cache only the tokens they ran for, so the caches
   * depend on it as well as on the ids. Model and precision are fixed per engine instance.
   */
  private seqThreshold?: number;
  private readonly startBans = new Map<string, Uint8Array>();

  private constructor(
    readonly pkg: ModelPackage,
    readonly tokenizer: CodeTokenizer,
    readonly model: ModelSession,
    readonly info: EngineInfo,
  ) {}

  static async load(opts: LoadOptions): Promise<CompletionEngine> {
    const t0 = performance.now();
    const pkg = loadModelPackage(opts.modelDir, opts.precision ?? 'q4');
    const tokenizer = CodeTokenizer.load(pkg.tokenizerPath);
    let opened;
    try {
      opened = await openSession(ort, pkg.onnxPath, opts.provider ?? 'auto', {
        intraOpNumThreads: opts.threads ?? 1,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
      });
    } catch (e) {
      throw new EngineError('model-corrupt', `onnxruntime could not load ${pkg.onnxPath}: ${(e as Error).message.split('\n')[0]}. The model file is damaged or not a MoD Complete model; reinstall it.`);
    }
    try {
      checkLoadedModel(pkg, { inputs: opened.session.inputMetadata, outputs: opened.session.outputMetadata }, tokenizer.vocabSize);
    } catch (e) {
      await opened.session.release(); // a refused model must not keep its native memory in a long-lived worker
      throw e;
    }
    const arch = pkg.manifest.architecture;
    const info: EngineInfo = {
      model: pkg.manifest.name,
      provider: opened.provider,
      precision: pkg.precision,
      attempts: opened.attempts,
      architecture: arch,
      loadMs: performance.now() - t0,
    };
    return new CompletionEngine(pkg, tokenizer, new ModelSession(ort, opened.session, arch), info);
  }

  /**
   * Characters on each side of the cursor a completion can read: the widest window its budgets
   * allow plus the snippet search range. Callers holding a large document pass only these.
   */
  get contextChars(): number {
    return this.info.architecture.seq_len * CHARS_PER_TOKEN + SNIPPET_SEARCH_CHARS;
  }

  /** Non-special tokens whose text, after leading whitespace, begins with `start` (flags by id). */
  private tokensOpeningWith(start: string): Uint8Array {
    let banned = this.startBans.get(start);
    if (!banned) {
      const V = this.info.architecture.vocab_size;
      banned = new Uint8Array(V);
      const dec = new TextDecoder();
      for (let id = SPECIAL_IDS.fileSep + 1; id < V; id++) {
        const t = dec.decode(this.tokenizer.tokenBytes(id)).trimStart();
        // A token that ends in whitespace before the marker (e.g. "\n  ") leaves it to the next one.
        if (t && (t.startsWith(start) || start.startsWith(t))) banned[id] = 1;
      }
      this.startBans.set(start, banned);
    }
    return banned;
  }

  /** Forget the cached sequence (the next request prefills from scratch). */
  reset(): void {
    this.model.truncate(0);
    this.seq = [];
    this.seqThreshold = undefined;
  }

  private async feed(ids: number[], threshold: number, meter: ComputeMeter) {
    const start = this.model.length;
    const r = await this.model.forward(ids, threshold);
    r.steps.forEach((blocks, t) => meter.add(start + t, blocks, t === ids.length - 1));
    this.seq.push(...ids);
    return r;
  }

  /**
   * The identifiers of the document and the workspace that extend the word the cursor is in;
   * generated text is appended at `baseLength` of the prefix. Undefined outside a word.
   */
  private wordMixer(prefix: string, baseLength: number, caches: CompletionCaches, w: WordWeights = DEFAULT_WORD_WEIGHTS): { mixer: WordMixer; anchor: number } | undefined {
    const pw = partialWord(prefix);
    if (!pw) return undefined;
    const counts = new Map<string, number>();
    caches.file.collectWords(pw.word, counts);
    for (const d of caches.workspace) d.collectWords(pw.word, counts, w.workspace);
    if (!counts.size) return undefined;
    // Decoding restarts at the healed token, which may begin before the word.
    const anchor = Math.min(pw.start, baseLength);
    const V = this.info.architecture.vocab_size;
    return { mixer: new WordMixer(this.tokenizer, V, SPECIAL_IDS.fileSep + 1, counts, pw.start - anchor, w), anchor };
  }

  /** `caches`: the n-gram caches of the document and the workspace to mix into decoding. */
  async complete(req: CompletionRequest, isCancelled: () => boolean = () => false, caches?: CompletionCaches): Promise<CompletionResult> {
    const t0 = performance.now();
    const arch = this.info.architecture;
    const threshold = req.threshold ?? COMPUTE_BUDGETS[req.budget ?? 'balanced'];
    const mode = !req.mode || req.mode === 'auto' ? chooseMode(req.prefix, req.suffix) : req.mode;
    // The model was trained on windows of seq_len tokens; prompt plus completion stay inside one.
    const limits = requestBudgets(req, arch.seq_len, mode);
    const { maxTokens, snippetTokens } = limits;
    const deadline = t0 + limits.timeLimitMs;
    const stopCtx = stopContextFor(req.prefix, req.suffix, mode, limits.maxLines);
    const budgets = { prefixTokens: limits.prefixTokens, suffixTokens: limits.suffixTokens };
    // The snippet is searched around the window that is left after it, the one the prompt uses.
    const narrowed = { ...budgets, prefixTokens: budgets.prefixTokens - snippetTokens };
    const snippet = snippetTokens > 0 ? retrieveSnippet(req, narrowed, snippetTokens, caches) : undefined;
    const prompt = await buildPrompt(this.tokenizer, req.path, { prefix: req.prefix, suffix: req.suffix }, snippet ? narrowed : budgets, snippet);
    if (isCancelled()) throw new EngineError('cancelled', 'cancelled');
    const healer = prompt.prefixTokens > 0 ? TokenHealer.fromPrompt(this.tokenizer, prompt.tokens, SPECIAL_IDS.fileSep + 1) : undefined;
    // Reuse the longest cached prefix of the prompt; at least the last token is fed again for its logits.
    let reuse = 0;
    if (!req.noReuse && threshold === this.seqThreshold) {
      const limit = Math.min(this.seq.length, prompt.tokens.length - 1);
      while (reuse < limit && this.seq[reuse] === prompt.tokens[reuse]) reuse++;
    }
    this.model.truncate(reuse);
    this.seq.length = reuse;
    this.seqThreshold = threshold;
    const meter = new ComputeMeter(this.pkg.manifest.flops, new Set(arch.routed_blocks), arch.n_layer);
    let r = await this.feed(prompt.tokens.slice(reuse), threshold, meter);
    const promptCount = meter.tokens.length;
    const tPrefill = performance.now();
    const decoder = new TokenStreamDecoder(this.tokenizer);
    const tokenTexts: string[] = [];
    const grid: number[][] = [];
    let stopReason: CompletionResult['stopReason'] = 'max-tokens';
    let text = '';
    const mixer = caches && req.cacheMix !== false ? new CacheMixer(caches, req.cacheWeights) : undefined;
    // The text generated tokens are appended to: the prefix without the healed token, from the cursor's word on.
    const base = healer ? req.prefix.slice(0, req.prefix.length - healer.text.length) : req.prefix;
    const words = mixer && this.wordMixer(req.prefix, base.length, caches!, req.wordWeights);
    for (let n = 0; n < maxTokens; n++) {
      const healing = healer?.active ?? false;
      const opening = req.avoidStart && !text.trim() ? this.tokensOpeningWith(req.avoidStart) : undefined;
      const pick = (logits: Float32Array) => (healing ? healer!.pick(logits, arch.vocab_size) : argmax(logits, arch.vocab_size, opening));
      let next = pick(r.logits);
      if (mixer) {
        // The model's own choice is kept to mark the tokens where the cache changed it.
        const own = next;
        const mixed = mixer.mix(r.logits, arch.vocab_size, this.seq);
        if (words?.mixer.mix(r.logits, arch.vocab_size, base.slice(words.anchor) + decoder.text) || mixed) next = pick(r.logits);
        mixer.use.changed.push(next !== own ? 1 : 0);
      }
      if (next <= SPECIAL_IDS.fileSep) {
        stopReason = 'end-of-text';
        break;
      }
      if (healing) healer!.accept(next);
      tokenTexts.push(decoder.push(next));
      text = healer ? healer.strip(decoder.text) : decoder.text;
      const cut = applyStopRules(text, stopCtx);
      if (cut !== undefined) {
        text = text.slice(0, cut);
        stopReason = 'stop-rule';
        break;
      }
      if (isCancelled()) throw new EngineError('cancelled', 'cancelled');
      // A bound on a slow machine or a stuck run: the worker must get to the next request.
      if (performance.now() >= deadline) {
        stopReason = 'time-limit';
        break;
      }
      r = await this.feed([next], threshold, meter);
      const last = meter.tokens[meter.tokens.length - 1];
      grid.push(arch.routed_blocks.map((b) => (last.blocks[b].ran ? 1 : 0)));
    }
    if (stopReason !== 'stop-rule') {
      // Judge the last (unterminated) line too.
      const cut = applyStopRules(text + '\n', stopCtx);
      if (cut !== undefined && cut < text.length) text = text.slice(0, cut);
    }
    const tEnd = performance.now();
    const generated = meter.tokens.length - promptCount;
    const decodeMs = tEnd - tPrefill;
    const shown = tokenTexts.slice(0, grid.length);
    return {
      text,
      mode: stopCtx.mode,
      tokens: tokenTexts.length,
      stopReason,
      budgets: limits,
      threshold,
      provider: this.info.provider,
      precision: this.info.precision,
      compute: {
        ...meter.totals(),
        prompt: meter.totals(0, promptCount),
        generation: meter.totals(promptCount),
        grid: { tokens: shown, blocks: arch.routed_blocks, ran: grid, kinds: tokenKinds(shown, req.path, base) },
      },
      cache: mixer && { ...mixer.use, changed: mixer.use.changed.slice(0, tokenTexts.length) },
      snippet: snippet && prompt.snippetTokens > 0 ? { path: snippet.path, tokens: prompt.snippetTokens } : undefined,
      timing: {
        prefillMs: tPrefill - t0,
        decodeMs,
        totalMs: tEnd - t0,
        tokensPerSecond: generated > 0 ? (generated * 1000) / decodeMs : 0,
        promptTokens: prompt.tokens.length,
        reusedTokens: reuse,
        prefilledTokens: prompt.tokens.length - reuse,
      },
    };
  }
}
