// The engine worker's lifecycle on the shipped model through the real EngineClient and worker:
// a shutdown in the middle of a completion waits for the native run instead of terminating the
// thread inside it (which aborts the whole process), and a worker that dies mid-request fails
// that request clearly and is replaced by a supervised restart that completes again.
import '../src/engine/telemetry'; // first: turns onnxruntime telemetry off before it loads
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { EngineClient, SHUTDOWN_GRACE_MS } from '../src/engine/client';
import type { CompletionRequest, EngineInfo } from '../src/engine/engine';
import { EngineError } from '../src/engine/errors';
import { EngineSupervisor, type RestartPolicy } from '../src/engine/supervisor';
import { SHIPPED_MODEL, tmpDir } from './helpers';

const WORKER = path.join(__dirname, '../src/engine/worker.js');
const SRC = 'def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n\n\ndef factorial(n):\n';
/** Runs long enough (every block on, 150 tokens) to be caught in the middle. */
const LONG: CompletionRequest = { path: 'a.py', prefix: SRC, suffix: '', mode: 'multiline', maxTokens: 150, threshold: -1 };
const FAST: RestartPolicy = { baseDelayMs: 50, maxDelayMs: 1000, maxRestarts: 3, stableMs: 60_000 };

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function isCode(code: EngineError['code']) {
  return (e: unknown) => e instanceof EngineError && e.code === code;
}

test('dispose() in the middle of a completion cancels it and lets the worker exit by itself, 10 times', async () => {
  for (let i = 0; i < 10; i++) {
    const c = new EngineClient(WORKER);
    await c.load({ modelDir: SHIPPED_MODEL, provider: 'cpu' });
    const running = assert.rejects(c.complete(LONG), isCode('cancelled'));
    await pause(5 + 5 * i); // from inside the prefill to deep in the decode
    const t0 = performance.now();
    await c.dispose();
    const ms = performance.now() - t0;
    await running;
    // Terminating it (the fallback) only happens after the grace period; this process would
    // have died of SIGABRT had the thread been terminated inside onnxruntime's run().
    assert.ok(ms < SHUTDOWN_GRACE_MS, `round ${i}: dispose took ${ms.toFixed(0)} ms`);
    assert.equal(await c.exited, undefined, 'a shutdown is not reported as a crash');
    await assert.rejects(c.complete(LONG), isCode('cancelled'));
  }
});

test('a worker that exits mid-request fails it with a clear error, restarts with backoff and completes', async () => {
  const events: string[] = [];
  let restarted!: (info: EngineInfo) => void;
  const back = new Promise<EngineInfo>((r) => (restarted = r));
  const sup = new EngineSupervisor({ modelDir: SHIPPED_MODEL, provider: 'cpu' }, {
    crashed: (e, ms) => events.push(`crashed ${e.code} ${ms}`),
    restarted: (info) => {
      events.push('restarted');
      restarted(info);
    },
    gaveUp: (e) => events.push(`gave up: ${e.message}`),
  }, WORKER, FAST);
  try {
    await sup.start();
    const first = sup.client!;
    const inFlight = assert.rejects(first.complete(LONG), (e: unknown) => {
      assert.ok(e instanceof EngineError, String(e));
      assert.equal(e.code, 'crashed');
      assert.match(e.message, /engine worker stopped unexpectedly \(exit code 70\)/);
      return true;
    });
    await pause(30);
    first.simulateCrash(70);
    await inFlight;
    // Between the crash and the restart nothing serves; the dead client says why.
    assert.equal(sup.client, undefined);
    await assert.rejects(first.complete(LONG), isCode('crashed'));
    assert.equal((await back).provider, 'cpu');
    assert.deepEqual(events, ['crashed crashed 50', 'restarted']);
    const r = await sup.client!.complete({ path: 'a.py', prefix: 'def add(a, b):\n    return ', suffix: '', maxTokens: 8 });
    assert.ok(r.tokens > 0 && r.text.length > 0, `empty completion after the restart (${r.stopReason})`);
  } finally {
    await sup.dispose();
  }
});

test('restarts that keep failing back off (doubling) and then give up with the reason', async () => {
  const dir = tmpDir('mod-vanishing-model-');
  for (const f of fs.readdirSync(SHIPPED_MODEL)) fs.copyFileSync(path.join(SHIPPED_MODEL, f), path.join(dir, f));
  const events: string[] = [];
  let gaveUp!: (e: EngineError) => void;
  const done = new Promise<EngineError>((r) => (gaveUp = r));
  const sup = new EngineSupervisor({ modelDir: dir, provider: 'cpu' }, {
    crashed: (e, ms) => events.push(`${e.code} ${ms}`),
    restarted: () => events.push('restarted'),
    gaveUp,
  }, WORKER, FAST);
  try {
    await sup.start();
    fs.rmSync(dir, { recursive: true }); // every restart's load now fails
    sup.client!.simulateCrash(70);
    const e = await done;
    assert.deepEqual(events, ['crashed 50', 'model-missing 100', 'model-missing 200']);
    assert.equal(e.code, 'crashed');
    assert.match(e.message, /stopped 3 times in a row.*No model found/s);
    assert.equal(sup.client, undefined);
  } finally {
    await sup.dispose();
  }
});
