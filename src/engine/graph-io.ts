// The decoding graph's input and output names, from the one list training/export.py also reads.
import io from './graph-io.json';

export type BlockIoKind = keyof typeof io.perBlock;

export const GRAPH_INPUTS = io.inputs;
export const GRAPH_LOGITS = io.outputs.logits;

/** The name of block `i`'s input or output of this kind (e.g. past_k_3). */
export function blockIo(kind: BlockIoKind, i: number): string {
  return io.perBlock[kind] + i;
}
