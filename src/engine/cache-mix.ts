// Mixing the cache n-gram model into decoding: at every step the next-token distribution is
//   p = (1 - λf) · ((1 - λw) · p_model + λw · p_workspace) + λf · p_file
// with each λ following how much its cache has to go on: the length of the context it matched
// and how often that context occurred (the nested cache of Hellendoorn & Devanbu 2017 puts the
// file's own statistics above the project's in the same way).
import { lookup, MIN_CONTEXT, type CachePrediction, type TokenChunk } from './cache-model';
import type { CompletionCaches } from './document-cache';

export interface CacheWeights {
  /** Largest weight of a cache whose longest match has 2, 3, ... MAX_CONTEXT tokens of context. */
  byContext: number[];
  /** Occurrences at which a cache gets half its largest weight. */
  halfCount: number;
  /** Factor on the workspace cache's weight (other files are less telling than this one). */
  workspace: number;
}

/**
 * Tuned on the validation split (`npm run tune:cache`, never held-out cases;
 * docs/reports/cache-tuning.json, retuned for the 92.1M-token model): bits/byte 0.828 / 0.826 ->
 * 0.737 / 0.720 over two folds, exact match of 150 validation completions 5.3 -> 8.7%. The
 * log-loss optimum has 0.4 for 6-token contexts; 0.5 is kept because the two give the same
 * validation completions and only 0.5 lets a completion copy an identifier from outside the
 * model's window (test/cache-e2e.test.ts). Retune when the model changes.
 */
export const DEFAULT_CACHE_WEIGHTS: CacheWeights = { byContext: [0.15, 0.2, 0.35, 0.4, 0.5, 0.6, 0.8], halfCount: 0.25, workspace: 0.75 };

export function cacheWeight(p: CachePrediction, w: CacheWeights, factor = 1): number {
  // Contexts longer than the weights list share its last weight.
  return factor * w.byContext[Math.min(p.context - MIN_CONTEXT, w.byContext.length - 1)] * (p.count / (p.count + w.halfCount));
}

/** The mixture's probability of one token: `ps[i]`, `lambdas[i]` from the outermost part in. */
export function mixture(pModel: number, ps: number[], lambdas: number[]): number {
  let p = pModel;
  for (let i = ps.length - 1; i >= 0; i--) p = (1 - lambdas[i]) * p + lambdas[i] * ps[i];
  return p;
}

/** log Σ exp of the first n values, without overflow. */
export function logSumExp(a: Float32Array, n: number): number {
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (a[i] > max) max = a[i];
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(a[i] - max);
  return max + Math.log(sum);
}

export interface MixPart { lambda: number; probs: Map<number, number> }

/**
 * Rewrites the first n logits in place so that their softmax is the mixture. Only tokens some
 * cache predicts change: every other token's share is the model's times Π(1 - λ), a constant that
 * softmax and argmax ignore. Returns whether anything changed.
 */
export function mixLogits(logits: Float32Array, n: number, parts: MixPart[]): boolean {
  const live = parts.filter((p) => p.lambda > 0 && p.probs.size > 0);
  if (!live.length) return false;
  const logZ = logSumExp(logits, n);
  const lambdas = live.map((p) => p.lambda);
  const keep = lambdas.reduce((k, l) => k * (1 - l), 1);
  const candidates = new Set<number>();
  for (const p of live) for (const tok of p.probs.keys()) if (tok < n) candidates.add(tok);
  for (const tok of candidates) {
    const pm = Math.exp(logits[tok] - logZ);
    logits[tok] = logZ + Math.log(mixture(pm, live.map((p) => p.probs.get(tok) ?? 0), lambdas) / keep);
  }
  return true;
}

/** What the cache contributed to one completion. */
export interface CacheUse {
  fileTokens: number;
  workspaceFiles: number;
  workspaceTokens: number;
  /** Per generated token: 1 where the cache changed the model's choice. */
  changed: number[];
  /** Time spent in cache lookups and mixing. */
  ms: number;
}

/** Per completion: looks up the caches for the sequence so far and mixes them into the logits. */
export class CacheMixer {
  readonly use: CacheUse;
  private readonly workspace: TokenChunk[];

  constructor(private readonly caches: CompletionCaches, private readonly weights: CacheWeights = DEFAULT_CACHE_WEIGHTS) {
    this.use = {
      fileTokens: caches.file.tokens,
      workspaceFiles: caches.workspace.length,
      workspaceTokens: caches.workspace.reduce((n, d) => n + d.tokens, 0),
      changed: [],
      ms: 0,
    };
    this.workspace = caches.workspace.flatMap((d) => [...d.indexes()]);
  }

  /** The parts to mix after `seq` (file first, then the workspace), without the ones that found nothing. */
  parts(seq: ArrayLike<number>): MixPart[] {
    const out: MixPart[] = [];
    const file = this.caches.file.predict(seq);
    if (file) out.push({ lambda: cacheWeight(file, this.weights), probs: file.probs });
    if (this.workspace.length && this.weights.workspace > 0) {
      const ws = lookup(this.workspace, seq);
      if (ws) out.push({ lambda: cacheWeight(ws, this.weights, this.weights.workspace), probs: ws.probs });
    }
    return out;
  }

  /** Mixes into `logits` in place; returns whether the caches changed anything. */
  mix(logits: Float32Array, n: number, seq: ArrayLike<number>): boolean {
    const t0 = performance.now();
    const changed = mixLogits(logits, n, this.parts(seq));
    this.use.ms += performance.now() - t0;
    return changed;
  }
}
