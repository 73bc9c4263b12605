// Per-block KV caches kept on the JS side. Each buffer is preallocated as [H, capacity, hd] and
// passed to onnxruntime whole (inputs are zero-copy); an additive mask hides rows past the valid
// length. Each call returns only the new rows, which are appended here, so a decode step moves a
// few KB instead of the whole cache. A routed block's cache holds only the tokens it processed.

export class BlockCache {
  len = 0;
  cap: number;
  k: Float32Array;
  v: Float32Array;
  mask: Float32Array;
  /** Original position of each cached row (increasing). */
  positions: Int32Array;

  constructor(readonly heads: number, readonly headDim: number, capacity: number) {
    this.cap = Math.max(1, capacity);
    this.k = new Float32Array(heads * this.cap * headDim);
    this.v = new Float32Array(heads * this.cap * headDim);
    this.mask = new Float32Array(this.cap).fill(-Infinity);
    this.positions = new Int32Array(this.cap);
  }

  private grow(needed: number): void {
    let cap = this.cap;
    while (cap < needed) cap *= 2;
    const { heads, headDim } = this;
    const k = new Float32Array(heads * cap * headDim);
    const v = new Float32Array(heads * cap * headDim);
    const rowBytes = this.len * headDim;
    for (let h = 0; h < heads; h++) {
      k.set(this.k.subarray(h * this.cap * headDim, h * this.cap * headDim + rowBytes), h * cap * headDim);
      v.set(this.v.subarray(h * this.cap * headDim, h * this.cap * headDim + rowBytes), h * cap * headDim);
    }
    const mask = new Float32Array(cap).fill(-Infinity);
    mask.fill(0, 0, this.len);
    const positions = new Int32Array(cap);
    positions.set(this.positions.subarray(0, this.len));
    Object.assign(this, { k, v, mask, positions, cap });
  }

  /** Appends n rows given as [H, n, hd] (the graph's new_k/new_v layout). */
  append(newK: Float32Array, newV: Float32Array, n: number, positions: ArrayLike<number>): void {
    if (n === 0) return;
    if (this.len + n > this.cap) this.grow(this.len + n);
    const { heads, headDim, cap, len } = this;
    for (let h = 0; h < heads; h++) {
      const src = h * n * headDim;
      const dst = (h * cap + len) * headDim;
      this.k.set(newK.subarray(src, src + n * headDim), dst);
      this.v.set(newV.subarray(src, src + n * headDim), dst);
    }
    for (let j = 0; j < n; j++) this.positions[len + j] = positions[j];
    this.mask.fill(0, len, len + n);
    this.len += n;
  }

  /** Drops every row at or after `position` (rows are in position order). */
  truncate(position: number): void {
    let lo = 0;
    let hi = this.len;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.positions[mid] < position) lo = mid + 1;
      else hi = mid;
    }
    this.mask.fill(-Infinity, lo, this.len);
    this.len = lo;
  }

  bytes(): number {
    return this.len * this.heads * this.headDim * 4 * 2;
  }
}
