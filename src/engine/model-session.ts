// One loaded model: the onnxruntime session plus the KV caches of the sequence it is working on.
// `forward` feeds new tokens (a prompt chunk or one decoded token), appends each block's new
// cache rows, and reports which routed blocks ran for which token.
import type * as ortTypes from 'onnxruntime-node';
import type { BlockStep } from './accounting';
import { BlockCache } from './kv-cache';
import { blockIo, GRAPH_INPUTS, GRAPH_LOGITS } from './graph-io';
import type { Architecture } from './manifest';

type Ort = typeof ortTypes;

export interface ForwardResult {
  /** Logits of the requested rows, [rows, vocab]. */
  logits: Float32Array;
  /** Per routed block: 1 where the block ran for that new token. */
  routed: Map<number, Uint8Array>;
  /** steps[t][block]: whether the block ran for new token t and how many keys its attention saw. */
  steps: BlockStep[][];
}

export class ModelSession {
  readonly caches: BlockCache[];
  /** Positions fed so far (the sequence length). */
  length = 0;
  private readonly routedSet: Set<number>;

  constructor(
    private readonly ort: Ort,
    readonly session: ortTypes.InferenceSession,
    readonly arch: Architecture,
  ) {
    this.routedSet = new Set(arch.routed_blocks);
    this.caches = [];
    for (let i = 0; i < arch.n_layer; i++) {
      const routed = this.routedSet.has(i);
      this.caches.push(new BlockCache(arch.n_head, arch.head_dim, routed ? 64 : 256));
    }
  }

  /** Forgets everything from `position` on, in every block. */
  truncate(position: number): void {
    if (position >= this.length) return;
    for (const c of this.caches) c.truncate(position);
    this.length = position;
  }

  async forward(ids: ArrayLike<number>, threshold: number, allLogits = false): Promise<ForwardResult> {
    const { ort, arch } = this;
    const T = ids.length;
    if (T === 0) throw new Error('forward needs at least one token');
    const start = this.length;
    const idsArr = new BigInt64Array(T);
    const pos = new BigInt64Array(T);
    for (let t = 0; t < T; t++) {
      idsArr[t] = BigInt(ids[t]);
      pos[t] = BigInt(start + t);
    }
    const rows = allLogits ? T : 1;
    const rowIdx = new BigInt64Array(rows);
    for (let r = 0; r < rows; r++) rowIdx[r] = BigInt(allLogits ? r : T - 1);
    const H = arch.n_head;
    const hd = arch.head_dim;
    const denseCache = this.caches.find((_, i) => !this.routedSet.has(i))!;
    const feeds: Record<string, ortTypes.Tensor> = {
      [GRAPH_INPUTS.ids]: new ort.Tensor('int64', idsArr, [T]),
      [GRAPH_INPUTS.positions]: new ort.Tensor('int64', pos, [T]),
      [GRAPH_INPUTS.threshold]: new ort.Tensor('float32', Float32Array.of(threshold), [1]),
      [GRAPH_INPUTS.logitRows]: new ort.Tensor('int64', rowIdx, [rows]),
      [GRAPH_INPUTS.denseMask]: new ort.Tensor('float32', denseCache.mask, [denseCache.cap]),
    };
    this.caches.forEach((c, i) => {
      feeds[blockIo('pastK', i)] = new ort.Tensor('float32', c.k, [H, c.cap, hd]);
      feeds[blockIo('pastV', i)] = new ort.Tensor('float32', c.v, [H, c.cap, hd]);
      if (this.routedSet.has(i)) feeds[blockIo('pastMask', i)] = new ort.Tensor('float32', c.mask, [c.cap]);
    });
    const out = await this.session.run(feeds);
    const routed = new Map<number, Uint8Array>();
    const steps: BlockStep[][] = Array.from({ length: T }, () => []);
    const thr = Math.fround(threshold);
    const positions = Array.from({ length: T }, (_, t) => start + t);
    this.caches.forEach((c, i) => {
      const nk = out[blockIo('newK', i)];
      const n = nk.dims[1] as number;
      let selPositions: number[] = positions;
      if (this.routedSet.has(i)) {
        const p = out[blockIo('routeProb', i)].data as Float32Array;
        const sel = new Uint8Array(T);
        selPositions = [];
        for (let t = 0; t < T; t++) if (p[t] > thr) {
          sel[t] = 1;
          selPositions.push(start + t);
        }
        if (selPositions.length !== n) throw new Error(`block ${i}: graph added ${n} cache rows for ${selPositions.length} routed tokens`);
        routed.set(i, sel);
      }
      let j = 0;
      for (let t = 0; t < T; t++) {
        const ran = !this.routedSet.has(i) || routed.get(i)![t] === 1;
        steps[t].push({ ran, keys: ran ? c.len + ++j : 0 });
      }
      c.append(nk.data as Float32Array, out[blockIo('newV', i)].data as Float32Array, n, selPositions);
    });
    this.length += T;
    return { logits: out[GRAPH_LOGITS].data as Float32Array, routed, steps };
  }
}
