// Bits per byte of a model on a token file, with the inference routing the engine uses (the
// predictor at a threshold): the measure behind quantized-vs-float and speed/quality comparisons.
import * as fs from 'node:fs';
import type { CompletionEngine } from './engine';
import { EngineError } from './errors';

/** A token file as `npm run shards` writes it: uint16 ids, little-endian. */
export function readTokens(file: string): Uint16Array {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new EngineError('input', `Cannot read ${file}: ${(e as Error).message}`);
  }
  return new Uint16Array(buf.buffer, buf.byteOffset, buf.length >> 1);
}

export interface BpbResult { bitsPerByte: number; tokens: number; bytes: number; routedFraction: number }

/** Evenly spaced windows of `seqLen` tokens; each is scored on its next-token predictions. */
export async function bitsPerByte(engine: CompletionEngine, tokens: Uint16Array, windows: number, seqLen: number, threshold: number): Promise<BpbResult> {
  const V = engine.info.architecture.vocab_size;
  const routed = engine.info.architecture.routed_blocks;
  const stride = Math.max(1, Math.floor((tokens.length - seqLen - 1) / Math.max(1, windows - 1)));
  let nats = 0;
  let bytes = 0;
  let count = 0;
  let ran = 0;
  let slots = 0;
  for (let w = 0; w < windows; w++) {
    const start = Math.min(w * stride, tokens.length - seqLen - 1);
    const ids = Array.from(tokens.subarray(start, start + seqLen + 1));
    engine.reset();
    const r = await engine.model.forward(ids.slice(0, -1), threshold, true);
    for (let t = 0; t < seqLen; t++) {
      const row = r.logits.subarray(t * V, (t + 1) * V);
      let max = -Infinity;
      for (let j = 0; j < V; j++) if (row[j] > max) max = row[j];
      let sum = 0;
      for (let j = 0; j < V; j++) sum += Math.exp(row[j] - max);
      nats += Math.log(sum) + max - row[ids[t + 1]];
      bytes += engine.tokenizer.tokenBytes(ids[t + 1]).length;
      count++;
      for (const b of routed) {
        slots++;
        if (r.steps[t][b].ran) ran++;
      }
    }
  }
  engine.reset();
  return { bitsPerByte: nats / Math.LN2 / bytes, tokens: count, bytes, routedFraction: ran / slots };
}
