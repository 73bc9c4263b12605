// The CLI as users run it: the bundled dist/cli.js on the shipped model.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ROOT, tmpDir } from './helpers';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'dist/cli.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('complete --json prints the completion and its accounting', () => {
  const r = cli(['complete', '--file', 'test/fixtures/sample.py', '--line', '21', '--column', '18', '--json']);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  for (const k of ['completion', 'tokens', 'flops', 'denseFlops', 'computeSaved', 'latencyMs', 'provider']) assert.ok(k in j, k);
  assert.equal(typeof j.completion, 'string');
  assert.ok(j.flops > 0 && j.flops < j.denseFlops);
  assert.ok(j.computeSaved > 0 && j.computeSaved < 1);
  assert.equal(j.provider, 'cpu');
});

test('eval --json reports exact match, edit similarity, compute and latency', () => {
  const dir = tmpDir('mod-eval-');
  const cases = fs.readFileSync(path.join(ROOT, 'test/fixtures/heldout-cases.jsonl'), 'utf8').split('\n').filter(Boolean).slice(0, 6);
  fs.writeFileSync(path.join(dir, 'cases.jsonl'), cases.join('\n') + '\n');
  const r = cli(['eval', '--cases', path.join(dir, 'cases.jsonl'), '--json']);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.cases, 6);
  for (const k of ['exactMatch', 'editSimilarity', 'computeSaved', 'p50Ms', 'p95Ms']) assert.ok(Number.isFinite(j[k]), k);
  assert.ok(j.p95Ms >= j.p50Ms);
});

test('bench --quick --json measures routed against every block on', () => {
  const r = cli(['bench', '--quick', '--json', '--provider', 'cpu']);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.ok(j.decodeSpeedup > 0);
  for (const p of ['q4', 'float']) {
    const d = j.decode[p];
    assert.ok(d.routed.flopsPerToken < d.everyBlockOn.flopsPerToken, p);
    assert.ok(d.routed.routedFraction < 1 && d.everyBlockOn.routedFraction === 1, p);
    for (const len of ['256', '512', '1024']) assert.ok(j.prefillMs[p][len] > 0);
  }
  assert.ok(j.ttft.reuseMs < j.ttft.coldMs);
});

test('bad input: clear message and a non-zero exit, no stack trace', () => {
  const missing = cli(['complete', '--file', 'nope.py', '--line', '1', '--column', '1']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /Cannot read nope\.py/);
  const badModel = cli(['complete', '--file', 'test/fixtures/sample.py', '--line', '1', '--column', '1', '--model', tmpDir('mod-empty-')]);
  assert.equal(badModel.code, 1);
  assert.match(badModel.err, /No model found/);
  assert.doesNotMatch(badModel.err, /at .*\.js:\d+/);
});
