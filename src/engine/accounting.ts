// Compute accounting: FLOPs actually executed against what the same weights would spend with
// every block on, per token and per block, counting attention over the keys each token really
// saw (a routed block's cache holds only the tokens it processed) and the predictors' own cost.
import type { FlopsTable } from './manifest';

export interface BlockStep {
  /** Whether the block ran for this token. */
  ran: boolean;
  /** Keys its attention saw when it ran (cache rows plus itself). */
  keys: number;
}

export interface TokenCompute {
  /** Position of the token in the sequence. */
  position: number;
  /** Per block, in order. */
  blocks: BlockStep[];
  flops: number;
  denseFlops: number;
}

export interface ComputeTotals {
  flops: number;
  denseFlops: number;
  /** 1 - flops/denseFlops. */
  saved: number;
  /** KV cache rows (tokens x blocks) not stored because a routed block skipped the token. */
  kvEntriesSaved: number;
  kvEntries: number;
  /** Per block: tokens it ran for, and tokens seen. */
  perBlock: { block: number; routed: boolean; ran: number; tokens: number }[];
}

export class ComputeMeter {
  readonly tokens: TokenCompute[] = [];

  constructor(private readonly f: FlopsTable, private readonly routedBlocks: Set<number>, private readonly nBlocks: number) {}

  /**
   * FLOPs of one token through the network. `lmHead`: whether logits were computed for it
   * (only for the last prompt token and generated tokens).
   */
  tokenFlops(position: number, blocks: BlockStep[], lmHead: boolean): TokenCompute {
    const f = this.f;
    let flops = lmHead ? f.lm_head_per_token : 0;
    let dense = flops;
    blocks.forEach((b, i) => {
      const routed = this.routedBlocks.has(i);
      // Every block on: the block runs and attends to every earlier token plus itself.
      dense += f.block_per_token + f.attention_per_key * (position + 1) + (routed ? f.router_per_token : 0);
      if (routed) flops += f.predictor_per_token;
      if (b.ran) flops += f.block_per_token + f.attention_per_key * b.keys + (routed ? f.router_per_token : 0);
    });
    return { position, blocks, flops, denseFlops: dense };
  }

  add(position: number, blocks: BlockStep[], lmHead: boolean): TokenCompute {
    if (blocks.length !== this.nBlocks) throw new Error(`expected ${this.nBlocks} blocks, got ${blocks.length}`);
    const t = this.tokenFlops(position, blocks, lmHead);
    this.tokens.push(t);
    return t;
  }

  totals(from = 0, to = this.tokens.length): ComputeTotals {
    const toks = this.tokens.slice(from, to);
    let flops = 0;
    let denseFlops = 0;
    const perBlock = Array.from({ length: this.nBlocks }, (_, block) => ({ block, routed: this.routedBlocks.has(block), ran: 0, tokens: 0 }));
    for (const t of toks) {
      flops += t.flops;
      denseFlops += t.denseFlops;
      t.blocks.forEach((b, i) => {
        perBlock[i].tokens++;
        if (b.ran) perBlock[i].ran++;
      });
    }
    const kvEntries = perBlock.reduce((s, b) => s + b.ran, 0);
    const kvEntriesSaved = perBlock.reduce((s, b) => s + (b.tokens - b.ran), 0);
    return { flops, denseFlops, saved: denseFlops > 0 ? 1 - flops / denseFlops : 0, kvEntriesSaved, kvEntries, perBlock };
  }
}
