// A tiny MoD model is trained for a few steps, exported, and run through the real
// onnxruntime-node step by step: prefill plus 32 decode steps must match PyTorch's
// recomputation within 1e-4 at several predictor thresholds, and every routed block's cache
// must hold exactly the tokens the predictor sent through it.
import '../src/engine/telemetry'; // first: turns onnxruntime telemetry off before it loads
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { argmax } from '../src/engine/engine';
import { ModelSession } from '../src/engine/model-session';
import { python, tmpDir } from './helpers';

interface Ref {
  promptLen: number;
  steps: number;
  vocab: number;
  cases: { threshold: number; tokens: number[]; logits: string; routedLens: Record<string, number>[] }[];
}

test('exported graph matches PyTorch over prefill and 32 routed decode steps', { timeout: 300_000 }, async () => {
  // MOD_PARITY_DIR: a fixture made from a real checkpoint (parity_fixture.py --ckpt), e.g. the shipped model's.
  const dir = process.env.MOD_PARITY_DIR ?? tmpDir('mod-parity-');
  if (!process.env.MOD_PARITY_DIR) python(['training/parity_fixture.py', '--out', dir, '--train-steps', '30']);
  const ref = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8')) as Ref;
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  const session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'), { executionProviders: ['cpu'] });
  assert.ok(ref.steps >= 32);
  let stepsWithSkippedBlock = 0;
  let tokensCompared = 0;
  let stepsWithRoutedToken = 0;
  for (const c of ref.cases) {
    const expected = new Float32Array(fs.readFileSync(path.join(dir, c.logits)).buffer.slice(0));
    const m = new ModelSession(ort, session, manifest.architecture);
    for (let s = 0; s <= ref.steps; s++) {
      const ids = s === 0 ? c.tokens.slice(0, ref.promptLen) : [c.tokens[ref.promptLen + s - 1]];
      const r = await m.forward(ids, c.threshold);
      let maxDiff = 0;
      for (let j = 0; j < ref.vocab; j++) maxDiff = Math.max(maxDiff, Math.abs(r.logits[j] - expected[s * ref.vocab + j]));
      assert.ok(maxDiff < 1e-4, `threshold ${c.threshold} step ${s}: max |logit diff| ${maxDiff}`);
      for (const [block, n] of Object.entries(c.routedLens[s])) assert.equal(m.caches[+block].len, n, `threshold ${c.threshold} step ${s} block ${block}`);
      // Greedy decoding from the engine's logits picks PyTorch's token.
      if (s < ref.steps) {
        assert.equal(argmax(r.logits, ref.vocab), c.tokens[ref.promptLen + s], `threshold ${c.threshold} step ${s}: greedy token`);
        tokensCompared++;
      }
      if (s > 0) {
        const decisions = [...r.routed.values()].map((sel) => sel[0]);
        if (decisions.includes(0)) stepsWithSkippedBlock++;
        if (decisions.includes(1)) stepsWithRoutedToken++;
      }
    }
    // Dense blocks hold every token.
    assert.equal(m.caches[0].len, ref.promptLen + ref.steps);
  }
  assert.ok(stepsWithSkippedBlock > 0 && stepsWithRoutedToken > 0, 'the check must cover both skipped and routed blocks');
  console.log(`${tokensCompared} greedy tokens equal to PyTorch's; ${stepsWithSkippedBlock} decode steps with a skipped block, ${stepsWithRoutedToken} with a routed one`);
});
