// Cache n-gram model: token n-gram statistics over text the user has open (Tu et al. 2014, "On
// the localness of software"). Code repeats itself within a file far more than a 7M-parameter
// model can remember from a 512-token window, so counts over the whole document predict
// identifiers and idioms the model cannot see.
//
// Memory stays near the token count: a chunk keeps its ids, and an index from each bigram to its
// last position plus a chain to the previous position with the same bigram. Contexts of 2..8
// tokens (orders 3..9) are matched by walking that chain and extending each match backwards;
// shorter contexts are left to the neural model, which knows them better. The long ones find
// text the user is re-typing (a line copied from above, a repeated call), where the cache
// should all but take over.

/** Longest context matched, in tokens (order 9). */
export const MAX_CONTEXT = 8;
/** Shortest context used (order 3): one token of context is noise next to the model. */
export const MIN_CONTEXT = 2;
/** Occurrences inspected per lookup and source: bounds latency for very common bigrams. */
export const MAX_OCCURRENCES = 4096;

const ORDERS = MAX_CONTEXT - MIN_CONTEXT + 1;

function bigramKey(a: number, b: number): number {
  // Exact for vocabularies up to 2^20 tokens (the product stays far below 2^53).
  return a * 1048576 + b;
}

/** The n-gram index of one run of tokens; n-grams never cross chunk boundaries. */
export class TokenChunk {
  private readonly head = new Map<number, number>();
  private readonly prev: Int32Array;

  constructor(readonly ids: Uint32Array) {
    this.prev = new Int32Array(ids.length);
    // Only positions with a following token predict anything.
    for (let p = 1; p + 1 < ids.length; p++) {
      const key = bigramKey(ids[p - 1], ids[p]);
      this.prev[p] = this.head.get(key) ?? -1;
      this.head.set(key, p);
    }
  }

  /** Adds every continuation of `ctx`'s last two tokens in this chunk to `counts`; returns the occurrences left to inspect. */
  collect(ctx: ArrayLike<number>, counts: NgramCounts, budget: number): number {
    const n = ctx.length;
    if (n < MIN_CONTEXT) return budget;
    const ids = this.ids;
    for (let p = this.head.get(bigramKey(ctx[n - 2], ctx[n - 1])) ?? -1; p >= 0 && budget > 0; p = this.prev[p], budget--) {
      let m = MIN_CONTEXT;
      while (m < MAX_CONTEXT && m < n && p - m >= 0 && ids[p - m] === ctx[n - 1 - m]) m++;
      counts.add(m, ids[p + 1]);
    }
    return budget;
  }
}

/** Continuation counts by matched context length (MIN_CONTEXT..MAX_CONTEXT). */
export class NgramCounts {
  /** token -> counts[k - MIN_CONTEXT]: occurrences whose context matched at least k tokens. */
  readonly next = new Map<number, Int32Array>();
  readonly totals = new Int32Array(ORDERS);

  add(matched: number, token: number): void {
    let c = this.next.get(token);
    if (!c) this.next.set(token, (c = new Int32Array(ORDERS)));
    for (let k = 0; k <= matched - MIN_CONTEXT; k++) {
      c[k]++;
      this.totals[k]++;
    }
  }

  /** Longest context length with any occurrence, 0 when nothing matched. */
  longest(): number {
    for (let k = ORDERS - 1; k >= 0; k--) if (this.totals[k] > 0) return k + MIN_CONTEXT;
    return 0;
  }
}

export interface CachePrediction {
  /** Context length of the longest match (MIN_CONTEXT..MAX_CONTEXT). */
  context: number;
  /** Occurrences of that longest context. */
  count: number;
  /** Probabilities of the tokens seen after the context (they sum to 1). */
  probs: Map<number, number>;
}

/**
 * Interpolates the orders Witten-Bell style: each longer context keeps its counts and passes on
 * weight in proportion to how many different tokens followed it (no parameters to tune).
 */
export function predict(counts: NgramCounts): CachePrediction | undefined {
  const longest = counts.longest();
  if (!longest) return undefined;
  const probs = new Map<number, number>();
  for (let k = 0; k <= longest - MIN_CONTEXT; k++) {
    const n = counts.totals[k];
    let distinct = 0;
    for (const c of counts.next.values()) if (c[k] > 0) distinct++;
    for (const [tok, c] of counts.next) {
      const lower = probs.get(tok) ?? 0;
      probs.set(tok, k === 0 ? c[0] / n : (c[k] + distinct * lower) / (n + distinct));
    }
  }
  return { context: longest, count: counts.totals[longest - MIN_CONTEXT], probs };
}

/** Counts over several chunks for the context `ctx` (its last MAX_CONTEXT tokens matter). */
export function lookup(chunks: Iterable<TokenChunk>, ctx: ArrayLike<number>): CachePrediction | undefined {
  const counts = new NgramCounts();
  let budget = MAX_OCCURRENCES;
  for (const c of chunks) {
    budget = c.collect(ctx, counts, budget);
    if (budget <= 0) break;
  }
  return predict(counts);
}
