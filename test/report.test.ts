// Report code on small synthetic inputs: a comparison that fails must read as "disagrees".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { charts, claimsTable, evaluateClaims, Run } from '../src/report/paper';
import { lineChart, ticks } from '../src/report/svg';

function run(variant: string, bpb: number, opts: Partial<{ pred: number; acc: number; step: number; flops: number }> = {}): Run {
  const final = { trainFlops: 1e12, elapsed: 60, tokens: 1e5, val_bpb_topk: bpb, val_bpb_predictor: opts.pred ?? bpb, pred_acc: opts.acc };
  return {
    variant, budget: 1e12, stepSeconds: opts.step ?? 1,
    summary: { final, forward_flops_per_token: opts.flops ?? 10, forward_flops_per_token_every_block_on: 16, tokens: 1e5, elapsed: 60, train_flops: 1e12 },
    evals: [{ ...final, trainFlops: 5e11, val_bpb_topk: bpb + 0.5 }, final],
  };
}

const verdicts = (runs: Run[]) => Object.fromEntries(evaluateClaims(runs).map((c) => [c.claim.split(' ').slice(0, 3).join(' '), c.verdict]));

test('claims agree when MoD behaves as the paper says', () => {
  const v = verdicts([run('mod', 2.0, { acc: 0.98, step: 0.7, flops: 6 }), run('dense', 2.01, { flops: 10 }), run('stochastic', 2.3, { flops: 6 })]);
  assert.deepEqual(Object.values(v), ['agrees', 'agrees', 'agrees', 'agrees', 'agrees', 'agrees']);
});

test('claims disagree when MoD is worse, slower, or its predictor is poor', () => {
  const v = verdicts([run('mod', 2.2, { acc: 0.9, step: 1.2, flops: 9, pred: 2.4 }), run('dense', 2.0, { flops: 10 }), run('stochastic', 2.21, { flops: 9 })]);
  assert.equal(v['MoD matches or'], 'disagrees');
  assert.equal(v['MoD needs far'], 'disagrees');
  assert.equal(v['MoD steps faster'], 'disagrees');
  assert.equal(v['Stochastic routing is'], 'disagrees');
  assert.equal(v['The causal predictor'], 'disagrees');
  assert.equal(v['Sampling with the'], 'disagrees');
  assert.match(claimsTable(evaluateClaims([run('mod', 2.2), run('dense', 2.0)])), /\*\*disagrees\*\*/);
});

test('missing data is reported as such, not as agreement', () => {
  const c = evaluateClaims([run('mod', 2.0)]);
  assert.equal(c.find((x) => x.claim.startsWith('The causal predictor'))!.verdict, 'no data');
});

test('charts are SVG with one polyline per run', () => {
  const svgs = charts([run('mod', 2.0, { acc: 0.98 }), run('dense', 2.1)]);
  const svg = svgs['bpb-vs-flops.svg'];
  assert.match(svg, /^<svg[^>]+xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.equal((svg.match(/<polyline/g) ?? []).length, 2);
  assert.ok(svg.includes('mod @1e+12') && svg.includes('dense @1e+12'));
  assert.deepEqual(ticks(0, 10, 5), [0, 2, 4, 6, 8, 10]);
  assert.doesNotMatch(lineChart([{ name: '<x>', points: [[1, 1], [2, 2]] }], { title: 't', xLabel: 'x', yLabel: 'y' }), /<x>/);
});

test('no-model baseline repeats the rest of the most similar earlier line', async () => {
  const { similarLineBaseline } = await import('../src/report/quality');
  const prefix = 'const a = compute(x, y);\nconst b = other(1);\nconst a2 = comp';
  assert.equal(similarLineBaseline({ id: 'x', prefix, suffix: '', target: '' }), 'ute(x, y);');
  const multi = 'if (a) {\n  run(a);\n  stop();\n}\nif (b) {';
  assert.equal(similarLineBaseline({ id: 'y', prefix: multi, suffix: '', target: '\n  x\n  y', kind: 'multi-line' }), '\n  run(a);\n  stop();');
});
