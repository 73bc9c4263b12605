// The decoding graph's input and output names, from the one list training/export.py also reads.
import io from './graph-io.json';

export type BlockIoKind = keyof typeof io.perBlock;

export const GRAPH_INPUTS = io.inputs;
export const GRAPH_LOGITS = io.outputs.logits;
/** A plain dense view's model name: the routed model's name plus this. */
export const PLAIN_DENSE_SUFFIX = io.plainDenseSuffix;

/** The name of block `i`'s input or output of this kind (e.g. past_k_3). */
export function blockIo(kind: BlockIoKind, i: number): string {
  return io.perBlock[kind] + i;
}
