// The shipped 4-bit model must stay within 2% of the float model's bits per byte on held-out
// validation text (16 windows of 512 tokens from the validation split, test/fixtures/val-sample.bin).
import '../src/engine/telemetry'; // first: turns onnxruntime telemetry off before it loads
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { bitsPerByte, readTokens } from '../src/engine/bpb';
import { CompletionEngine } from '../src/engine/engine';
import { ROOT, SHIPPED_MODEL } from './helpers';

test('4-bit bits/byte within 2% of float on validation text', { timeout: 300_000 }, async () => {
  const tokens = readTokens(path.join(ROOT, 'test/fixtures/val-sample.bin'));
  const windows = tokens.length / 513;
  const bpb: Record<string, number> = {};
  for (const precision of ['float', 'q4'] as const) {
    const e = await CompletionEngine.load({ modelDir: SHIPPED_MODEL, precision, provider: 'cpu' });
    assert.equal(e.info.precision, precision);
    bpb[precision] = (await bitsPerByte(e, tokens, windows, 512, 0.5)).bitsPerByte;
  }
  const delta = Math.abs(bpb.q4 / bpb.float - 1);
  console.log(`bits/byte float ${bpb.float.toFixed(4)}, q4 ${bpb.q4.toFixed(4)} (${(100 * delta).toFixed(2)}%)`);
  assert.ok(delta < 0.02, `4-bit is ${(100 * delta).toFixed(2)}% off float`);
  // Close to float is not enough (a useless model is close to itself): the 4-bit model must be as
  // good as its model card says (validation split; these windows are a sample of it) and far from
  // guessing (uniform over the vocabulary: log2(V) bits a token, ~4.2 bits/byte here).
  const recorded = JSON.parse(fs.readFileSync(path.join(SHIPPED_MODEL, 'manifest.json'), 'utf8')).quality.onnxBitsPerByteQ4 as number;
  assert.ok(Math.abs(bpb.q4 / recorded - 1) < 0.15, `4-bit ${bpb.q4.toFixed(3)} bits/byte here vs ${recorded.toFixed(3)} in the manifest`);
  assert.ok(bpb.q4 < 2, `4-bit ${bpb.q4.toFixed(3)} bits/byte: no better than a weak guess`);
});
