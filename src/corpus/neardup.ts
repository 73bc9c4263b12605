// Near-duplicate detection for the corpus: MinHash signatures over shingles of code tokens,
// indexed by LSH banding. Two files whose estimated Jaccard similarity (of their token 5-gram
// sets) reaches the threshold count as near-duplicates. Pure and deterministic: the same texts
// inserted in the same order always give the same verdicts.

export interface NearDupOptions {
  /** Tokens per shingle. */
  shingle: number;
  /** MinHash permutations (signature length); a multiple of `bands`. */
  permutations: number;
  /** LSH bands; each band holds permutations / bands rows. */
  bands: number;
  /** Estimated Jaccard at or above which a file is a near-duplicate. */
  threshold: number;
}

export const NEAR_DUP_DEFAULTS: NearDupOptions = { shingle: 5, permutations: 128, bands: 32, threshold: 0.8 };

/** 32-bit finaliser of MurmurHash3: a cheap bijective mixer. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function isIdentChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 36 || c > 127;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;
}

/**
 * Hashes of the code tokens of `text`: identifiers/words (letters, digits, `_`, `$`, non-ASCII),
 * numbers (digits, `.`, letters such as `0x1f` or `1e5`), and single punctuation characters.
 * Whitespace separates tokens and is otherwise ignored, so reformatting does not change them.
 */
export function tokenHashes(text: string): Uint32Array {
  const out: number[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    // FNV-1a over the token's characters.
    let h = 0x811c9dc5;
    if (isDigit(c)) {
      while (i < n) {
        const d = text.charCodeAt(i);
        if (!(isIdentChar(d) || d === 46)) break;
        h = Math.imul(h ^ d, 0x01000193);
        i++;
      }
    } else if (isIdentChar(c)) {
      while (i < n) {
        const d = text.charCodeAt(i);
        if (!isIdentChar(d)) break;
        h = Math.imul(h ^ d, 0x01000193);
        i++;
      }
    } else {
      h = Math.imul(h ^ c, 0x01000193);
      i++;
    }
    out.push(h >>> 0);
  }
  return Uint32Array.from(out);
}

/** Distinct hashes of every run of `k` consecutive tokens (the whole text when it has fewer), sorted. */
export function shingleSet(text: string, k: number): Uint32Array {
  const toks = tokenHashes(text);
  const count = toks.length <= k ? (toks.length ? 1 : 0) : toks.length - k + 1;
  const sh = new Uint32Array(count);
  for (let s = 0; s < count; s++) {
    let h = 0x9747b28c;
    const end = Math.min(toks.length, s + k);
    for (let j = s; j < end; j++) h = Math.imul(h ^ toks[j], 0x01000193) ^ (h >>> 15);
    sh[s] = fmix32(h);
  }
  sh.sort();
  let u = 0;
  for (let s = 0; s < sh.length; s++) if (s === 0 || sh[s] !== sh[s - 1]) sh[u++] = sh[s];
  return sh.slice(0, u);
}

/** Per-permutation constants: an xor mask and an odd multiplier, from a fixed seed. */
function permutationConstants(count: number): { xor: Uint32Array; mul: Uint32Array } {
  const xor = new Uint32Array(count);
  const mul = new Uint32Array(count);
  let s = 0x2545f491;
  for (let i = 0; i < count; i++) {
    s = fmix32(s + 0x9e3779b9);
    xor[i] = s;
    s = fmix32(s + 0x9e3779b9);
    mul[i] = (s | 1) >>> 0;
  }
  return { xor, mul };
}

const constCache = new Map<number, { xor: Uint32Array; mul: Uint32Array }>();

/**
 * MinHash signature: for each permutation i, the minimum over the shingles x of
 * g_i(x) = xorshift(mul_i * (x ^ xor_i)), a bijection of the 32-bit shingle hash.
 * An empty text gets a signature of all 0xffffffff.
 */
export function minhash(text: string, opts: NearDupOptions = NEAR_DUP_DEFAULTS): Uint32Array {
  const perms = opts.permutations;
  let c = constCache.get(perms);
  if (!c) constCache.set(perms, (c = permutationConstants(perms)));
  const { xor, mul } = c;
  const sig = new Uint32Array(perms).fill(0xffffffff);
  const sh = shingleSet(text, opts.shingle);
  for (let s = 0; s < sh.length; s++) {
    const x = sh[s];
    for (let i = 0; i < perms; i++) {
      let v = Math.imul(x ^ xor[i], mul[i]);
      v = (v ^ (v >>> 15)) >>> 0;
      if (v < sig[i]) sig[i] = v;
    }
  }
  return sig;
}

/** Fraction of equal positions of two signatures: an estimate of the Jaccard similarity. */
export function estimatedJaccard(a: Uint32Array, b: Uint32Array): number {
  let eq = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) eq++;
  return eq / a.length;
}

/** LSH index of signatures: query for the most similar indexed signature at or above the threshold. */
export class NearDupIndex {
  private readonly rows: number;
  private readonly buckets: Map<number, number[]>[];
  private readonly sigs: Uint32Array[] = [];
  private stamp: Uint32Array = new Uint32Array(1024);
  private query = 0;

  constructor(readonly opts: NearDupOptions = NEAR_DUP_DEFAULTS) {
    if (opts.permutations % opts.bands !== 0) throw new Error('permutations must be a multiple of bands');
    this.rows = opts.permutations / opts.bands;
    this.buckets = Array.from({ length: opts.bands }, () => new Map<number, number[]>());
  }

  get size(): number {
    return this.sigs.length;
  }

  private bandKey(sig: Uint32Array, band: number): number {
    let h = 0x6a09e667 ^ band;
    for (let r = band * this.rows, end = r + this.rows; r < end; r++) h = fmix32(h ^ sig[r]) + 0x9e3779b9;
    return h >>> 0;
  }

  /** The first indexed entry similar enough to `sig` (bands in order, each bucket in insertion order), or undefined. */
  findNear(sig: Uint32Array): { id: number; jaccard: number } | undefined {
    this.query++;
    if (this.query === 0xffffffff) {
      this.stamp.fill(0);
      this.query = 1;
    }
    for (let b = 0; b < this.opts.bands; b++) {
      const list = this.buckets[b].get(this.bandKey(sig, b));
      if (!list) continue;
      for (const id of list) {
        if (this.stamp[id] === this.query) continue;
        this.stamp[id] = this.query;
        const j = estimatedJaccard(sig, this.sigs[id]);
        if (j >= this.opts.threshold) return { id, jaccard: j };
      }
    }
    return undefined;
  }

  /** Indexes a signature; returns its id (0, 1, 2, ... in insertion order). */
  add(sig: Uint32Array): number {
    const id = this.sigs.length;
    this.sigs.push(sig);
    if (id >= this.stamp.length) {
      const grown = new Uint32Array(this.stamp.length * 2);
      grown.set(this.stamp);
      this.stamp = grown;
    }
    for (let b = 0; b < this.opts.bands; b++) {
      const key = this.bandKey(sig, b);
      const list = this.buckets[b].get(key);
      if (list) list.push(id);
      else this.buckets[b].set(key, [id]);
    }
    return id;
  }
}

export interface NearDupItem {
  sig: Uint32Array;
  /** Protected items (validation, held-out) are always kept and indexed first. */
  protected: boolean;
}

/**
 * Decides which items to drop as near-duplicates. Protected items are all kept and indexed first
 * (in order); every other item, in order, is dropped when it is near an already indexed item, and
 * indexed otherwise. Returns, per item, the index of the item it duplicates, or -1 when kept.
 */
export function nearDupVerdicts(items: readonly NearDupItem[], opts: NearDupOptions = NEAR_DUP_DEFAULTS): Int32Array {
  const index = new NearDupIndex(opts);
  const itemOf: number[] = [];
  const verdict = new Int32Array(items.length).fill(-1);
  for (let i = 0; i < items.length; i++) {
    if (!items[i].protected) continue;
    index.add(items[i].sig);
    itemOf.push(i);
  }
  for (let i = 0; i < items.length; i++) {
    if (items[i].protected) continue;
    const near = index.findNear(items[i].sig);
    if (near) {
      verdict[i] = itemOf[near.id];
      continue;
    }
    index.add(items[i].sig);
    itemOf.push(i);
  }
  return verdict;
}
