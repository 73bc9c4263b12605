// onnxruntime-node's telemetry stays off: 1.30.0 would otherwise write an event store under the
// user's cache folder (and contact a Microsoft host). Each run is a child process with its own
// HOME and XDG_CACHE_HOME (where onnxruntime puts the store) and an environment without the
// markers that make onnxruntime keep telemetry off by itself, so the check cannot pass on a CI
// runner for the wrong reason; the control proves a store would be found.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ROOT, SHIPPED_MODEL, tmpDir } from './helpers';

// Any of these in the environment turns 1.30.0's telemetry off (found with `strings` in
// libonnxruntime.so and checked one by one; BUILD_ID, BUILD_NUMBER, RUN_ID do not).
const TELEMETRY_OFF_MARKERS = ['ORT_DISABLE_TELEMETRY', 'ORT_RUNNING_UNIT_TESTS', 'CI', 'TF_BUILD', 'GITHUB_ACTIONS', 'GITLAB_CI',
  'CIRCLECI', 'TRAVIS', 'JENKINS_URL', 'CODEBUILD_BUILD_ID', 'BUILDKITE', 'TEAMCITY_VERSION', 'APPVEYOR', 'BITBUCKET_BUILD_NUMBER',
  'SYSTEM_TEAMFOUNDATIONCOLLECTIONURI'];

/** Runs `node args` in a fresh home; returns its result and the telemetry files written there. */
function runInFreshHome(args: string[]) {
  const home = tmpDir('mod-telemetry-');
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CACHE_HOME: path.join(home, 'cache') };
  for (const k of TELEMETRY_OFF_MARKERS) delete env[k];
  const r = spawnSync(process.execPath, args, { cwd: ROOT, env, encoding: 'utf8', timeout: 240_000 });
  const store = (fs.readdirSync(home, { recursive: true }) as string[])
    .filter((p) => p.split(path.sep).some((part) => part === '.onnxruntime' || part === 'onnxruntime.db'));
  fs.rmSync(home, { recursive: true, force: true });
  return { code: r.status, out: r.stdout, err: r.stderr, store };
}

test('control: onnxruntime-node loaded directly, without the module, writes its telemetry store', () => {
  const script = `
    const ort = require('onnxruntime-node');
    const { ModelSession } = require('./out/src/engine/model-session');
    const manifest = require(${JSON.stringify(path.join(SHIPPED_MODEL, 'manifest.json'))});
    ort.InferenceSession.create(${JSON.stringify(path.join(SHIPPED_MODEL, 'model.q4.onnx'))})
      .then((s) => new ModelSession(ort, s, manifest.architecture).forward([5, 6, 7], 0.5))
      .then((r) => console.log(r.logits.length));`;
  const r = runInFreshHome(['-e', script]);
  assert.equal(r.code, 0, r.err);
  assert.equal(Number(r.out), 4096);
  assert.ok(r.store.some((p) => p.endsWith('onnxruntime.db')), `no store written: ${r.store.join(', ')}`);
});

test('the CLI completes without writing a telemetry store', () => {
  const r = runInFreshHome([path.join(ROOT, 'dist/cli.js'), 'complete', '--file', 'test/fixtures/sample.py', '--line', '21', '--column', '18', '--json']);
  assert.equal(r.code, 0, r.err);
  assert.equal(typeof JSON.parse(r.out).completion, 'string');
  assert.deepEqual(r.store, []);
});

test('the engine worker (as the extension host runs it) completes without writing a telemetry store', () => {
  const script = `
    const { EngineClient } = require('./out/src/engine/client');
    const c = new EngineClient(${JSON.stringify(path.join(ROOT, 'dist/worker.js'))});
    c.load({ modelDir: ${JSON.stringify(SHIPPED_MODEL)}, provider: 'cpu' })
      .then(() => c.complete({ path: 'a.py', prefix: 'def add(a, b):\\n    return ', suffix: '', maxTokens: 8 }))
      .then((r) => console.log(JSON.stringify({ tokens: r.tokens })))
      .finally(() => c.dispose());`;
  const r = runInFreshHome(['-e', script]);
  assert.equal(r.code, 0, r.err);
  assert.ok(JSON.parse(r.out).tokens > 0);
  assert.deepEqual(r.store, []);
});

test('a worker started by a thread that did not turn telemetry off refuses to run', () => {
  const script = `
    const { Worker } = require('node:worker_threads');
    new Worker(${JSON.stringify(path.join(ROOT, 'dist/worker.js'))}, { workerData: { control: new SharedArrayBuffer(4) } })
      .on('error', (e) => console.log(e.message));`;
  const r = runInFreshHome(['-e', script]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /ORT_DISABLE_TELEMETRY is not set in this worker/);
  assert.deepEqual(r.store, []);
});
