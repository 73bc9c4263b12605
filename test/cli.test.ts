// The CLI as users run it: the bundled dist/cli.js on the shipped model.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { arg } from '../src/tools/argv';
import { PYTHON, ROOT, tmpDir } from './helpers';

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

test('bench measures routed decoding against the plain dense graph of the same weights', () => {
  const shipped = path.join(ROOT, 'models', 'mod-complete-small');
  const dense = tmpDir('mod-plain-dense-');
  const exp = spawnSync(PYTHON, ['training/export.py', '--from-onnx', path.join(shipped, 'model.onnx'), '--plain-dense', '--out', dense,
    '--tokenizer', path.join(shipped, 'tokenizer.json')], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(exp.status, 0, exp.stderr);
  const r = cli(['bench', '--quick', '--json', '--provider', 'cpu', '--plain-dense', dense]);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.decodeSpeedupVsDense, j.decode.q4.speedupVsDense);
  for (const p of ['q4', 'float']) {
    const d = j.decode[p];
    // The baseline computes exactly what the routed graph computes with every block on.
    assert.ok(d.plainDense.maxLogitDiff < 1e-4, `${p}: ${d.plainDense.maxLogitDiff}`);
    assert.equal(d.speedupVsDense, d.routed.tokensPerSecond / d.plainDense.tokensPerSecond, p);
    assert.equal(d.speedup, d.routed.tokensPerSecond / d.everyBlockOn.tokensPerSecond, p);
    assert.ok(d.routed.flopsPerToken < d.everyBlockOn.flopsPerToken, p);
    assert.ok(d.routed.routedFraction > 0 && d.routed.routedFraction < 0.5 && d.everyBlockOn.routedFraction === 1, p);
    for (const len of ['256', '512', '1024']) assert.ok(j.prefillMs[p][len] > 0);
  }
  assert.ok(j.ttft.reuseMs < j.ttft.coldMs);
  // Any other model as the baseline is refused: the comparison is only fair on the same weights.
  const wrong = cli(['bench', '--quick', '--provider', 'cpu', '--plain-dense', shipped]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.err, /not the plain dense view of mod-complete-small/);
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

test('invalid option values and unknown options: exit 2 with a message naming the option', () => {
  const at = ['--file', 'test/fixtures/sample.py', '--line', '21', '--column', '18'];
  const tokens = path.join(tmpDir('mod-bpb-'), 'tokens.bin');
  fs.writeFileSync(tokens, Buffer.from(new Uint16Array(10).buffer));
  const cases: [string[], RegExp][] = [
    [['bpb', '--tokens', tokens, '--budget', 'bogus'], /--budget must be one of quality, balanced, fast, full; got "bogus"/],
    [['complete', ...at, '--precision', 'fp16'], /--precision must be one of q4, float; got "fp16"/],
    [['complete', ...at, '--provider', 'bogus'], /--provider must be one of auto, cpu, cuda, webgpu, dml, coreml; got "bogus"/],
    [['eval', '--cases', 'c.jsonl', '--mode', 'block'], /--mode must be one of auto, line, multiline; got "block"/],
    [['complete', '--file', 'test/fixtures/sample.py', '--line', 'x', '--column', '18'], /--line must be a whole number of at least 1, got "x"/],
    [['complete', '--file', 'test/fixtures/sample.py', '--line', '21', '--column', '-3'], /--column must be a whole number of at least 1, got "-3"/],
    [['complete', ...at, '--max-tokens', '0'], /--max-tokens must be a whole number of at least 1, got "0"/],
    [['bench', '--threads', '1.5'], /--threads must be a whole number of at least 1, got "1.5"/],
    [['bpb', '--tokens', tokens, '--threshold', 'abc'], /--threshold must be a number, got "abc"/],
    [['bpb', '--tokens', tokens, '--threshold', ''], /--threshold must be a number, got ""/],
    [['bpb', '--tokens', tokens, '--windows', '-2'], /--windows must be a whole number of at least 1, got "-2"/],
    [['bpb', '--tokens', tokens, '--seq-len', 'many'], /--seq-len must be a whole number of at least 1, got "many"/],
    [['complete', ...at, '--bogus', '1'], /Unknown option --bogus for complete; it takes --model, /],
    // Options a command would ignore are refused too: bench loads both precisions itself.
    [['bench', '--precision', 'q4'], /Unknown option --precision for bench/],
    [['verify', '--json'], /Unknown option --json for verify; it takes --model\./],
    [['complete', ...at, '--json', 'yes'], /--json takes no value, got "yes"/],
    [['complete', ...at, '--file'], /--file is given twice/],
    [['complete', '--line', '21', '--column', '18', '--file'], /--file needs a value/],
    [['complete', '--file', '--line', '21', '--column', '18'], /--file needs a value/],
    [['bpb', '--tokens', 'nope.bin'], /Cannot read nope\.bin/],
    // These two are only known to be wrong once the model is loaded (its window is 512 tokens).
    [['bpb', '--tokens', tokens], /holds 10 tokens; --seq-len 512 needs at least 513/],
    [['complete', ...at, '--prefix-tokens', '-1'], /--prefix-tokens must be a whole number of at least 0, got "-1"/],
    [['complete', ...at, '--suffix-tokens', '1e3'], /--suffix-tokens must be a whole number of at least 0, got "1e3"/],
    [['eval', '--cases', 'c.jsonl', '--max-lines', '0'], /--max-lines must be a whole number of at least 1, got "0"/],
    [['complete', ...at, '--time-limit', '-5'], /--time-limit must be a whole number of at least 1, got "-5"/],
  ];
  for (const [args, message] of cases) {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.err}`);
    assert.match(r.err, message, args.join(' '));
    assert.equal(r.out, '', args.join(' '));
    assert.doesNotMatch(r.err, /at .*\.js:\d+/);
  }
});

test('budgets larger than the window allows are clamped and said so', () => {
  const at = ['--file', 'test/fixtures/sample.py', '--line', '21', '--column', '18', '--provider', 'cpu'];
  const big = ['--max-tokens', '100000', '--prefix-tokens', '2000', '--time-limit', '100000'];
  const j = cli(['complete', ...at, ...big, '--json']);
  assert.equal(j.code, 0, j.err);
  const { budgets, promptTokens, tokens } = JSON.parse(j.out);
  assert.deepEqual([budgets.maxTokens, budgets.timeLimitMs], [372, 30000]);
  assert.ok(budgets.prefixTokens + budgets.suffixTokens <= 512 - 16 - 372 && promptTokens + tokens <= 512);
  const plain = cli(['complete', ...at, ...big]);
  assert.equal(plain.code, 0, plain.err);
  assert.match(plain.err, /clamped to the model's 512-token window: --max-tokens 100000 -> 372, --prefix-tokens 2000 -> \d+, --time-limit 100000 -> 30000/);
});

test('tool scripts: a flag without its value is an error, not the default', () => {
  const saved = process.argv;
  try {
    process.argv = ['node', 'tool.js', '--out', 'dir', '--label'];
    assert.equal(arg('--out', 'x'), 'dir');
    assert.equal(arg('--in', 'x'), 'x');
    assert.throws(() => arg('--label', 'x'), /--label needs a value/);
    process.argv = ['node', 'tool.js', '--run', '--shipped'];
    assert.throws(() => arg('--run', ''), /--run needs a value/);
  } finally {
    process.argv = saved;
  }
});
