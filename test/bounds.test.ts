// Bounded requests on the shipped model through the real worker: every budget, however large or
// wrong, settles quickly with a completion that fits the model's window or with a clear error,
// and the worker goes on answering. (prefixTokens -1 used to loop forever in the prompt trimmer;
// maxTokens 500 and a 40-token window left no room for the prompt.)
import '../src/engine/telemetry'; // first: turns onnxruntime telemetry off before it loads
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { EngineClient } from '../src/engine/client';
import { CompletionEngine, DEFAULT_TIME_LIMIT_MS, MAX_TIME_LIMIT_MS, requestBudgets, type CompletionRequest, type RequestBudgets } from '../src/engine/engine';
import { EngineError } from '../src/engine/errors';
import { MIN_SEQ_LEN } from '../src/engine/manifest';
import { PROMPT_OVERHEAD } from '../src/engine/prompt';
import { SHIPPED_MODEL, tmpDir } from './helpers';

const FUNCS = Array.from({ length: 60 }, (_, i) => `def step_${i}(state, delta):\n    state.total += delta * ${i}\n    return state\n\n`).join('');
const BASE = { path: 'pkg/steps.py', prefix: FUNCS + 'def step_60(state, delta):\n    ', suffix: '\n\n' + FUNCS, mode: 'multiline' as const };
const BUDGETS: (keyof RequestBudgets)[] = ['maxTokens', 'prefixTokens', 'suffixTokens', 'maxLines', 'snippetTokens'];
/** Generous for a loaded 2-core machine: the time limit plus a prefill and the messages. */
const SETTLE_MS = DEFAULT_TIME_LIMIT_MS + 5000;

const inputError = (key: string) => (e: unknown) => e instanceof EngineError && e.code === 'input' && e.message.includes(key);

async function timed<T>(p: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const t0 = performance.now();
  try {
    const value = await p;
    return { ms: performance.now() - t0, value };
  } catch (error) {
    return { ms: performance.now() - t0, error };
  }
}

test('requestBudgets clamps large budgets into the window and refuses nonsense', () => {
  const b = requestBudgets({ ...BASE, maxTokens: 100000, prefixTokens: 100000, suffixTokens: 100000, maxLines: 100000, snippetTokens: 100000, timeLimitMs: 1e9 }, 512, 'multiline');
  assert.equal(b.maxTokens, Math.floor((512 - PROMPT_OVERHEAD) * 0.75));
  assert.ok(b.prefixTokens + b.suffixTokens + b.maxTokens <= 512 - PROMPT_OVERHEAD, JSON.stringify(b));
  // Both sides asked for the same: both shrink alike.
  assert.ok(Math.abs(b.prefixTokens - b.suffixTokens) <= 1, JSON.stringify(b));
  assert.equal(b.maxLines, b.maxTokens);
  assert.equal(b.snippetTokens, Math.floor(b.prefixTokens / 2));
  assert.equal(b.timeLimitMs, MAX_TIME_LIMIT_MS);
  // The defaults are what they were before the clamping: 3/4 and 1/4 of the room.
  assert.deepEqual(requestBudgets(BASE, 512, 'line'), { maxTokens: 48, maxLines: 8, prefixTokens: 336, suffixTokens: 112, snippetTokens: 0, timeLimitMs: DEFAULT_TIME_LIMIT_MS });
  for (const key of [...BUDGETS, 'timeLimitMs'] as const) {
    for (const bad of [-1, 2.5, NaN, Infinity, '8']) {
      assert.throws(() => requestBudgets({ ...BASE, [key]: bad } as CompletionRequest, 512, 'line'), inputError(key), `${key} ${String(bad)}`);
    }
  }
  // The smallest window the manifest check lets through still has one token each of context and completion.
  const tiny = requestBudgets({ ...BASE, maxTokens: 100000 }, MIN_SEQ_LEN, 'line');
  assert.deepEqual([tiny.maxTokens, tiny.prefixTokens + tiny.suffixTokens], [1, 1]);
});

test('2000, 100000 and -1 for every budget: each request settles quickly, bounded or refused', async () => {
  const c = new EngineClient(path.join(__dirname, '../src/engine/worker.js'));
  try {
    const info = await c.load({ modelDir: SHIPPED_MODEL, provider: 'cpu' });
    const seqLen = info.architecture.seq_len;
    for (const key of BUDGETS) {
      for (const value of [2000, 100000, -1]) {
        const what = `${key} ${value}`;
        const r = await timed(c.complete({ ...BASE, [key]: value }));
        assert.ok(r.ms < SETTLE_MS, `${what}: ${r.ms.toFixed(0)} ms`);
        if (value < 0) {
          assert.ok(inputError(key)(r.error), `${what}: ${String(r.error)}`);
          continue;
        }
        assert.ok(r.value, `${what}: ${String(r.error)}`);
        const { budgets, timing, tokens } = r.value;
        assert.ok(budgets[key] < value, `${what} was not clamped: ${JSON.stringify(budgets)}`);
        // Every token fed (the prompt, then each generated token but the last) has a position in the window.
        assert.ok(timing.promptTokens + tokens <= seqLen, `${what}: ${timing.promptTokens} + ${tokens} tokens`);
        assert.ok(budgets.prefixTokens + budgets.suffixTokens + budgets.maxTokens + PROMPT_OVERHEAD <= seqLen, `${what}: ${JSON.stringify(budgets)}`);
      }
    }
    // A time limit ends generation with what it has; the worker is free for the next request.
    const limited = await c.complete({ ...BASE, maxTokens: 100000, maxLines: 100000, threshold: -1, timeLimitMs: 1 });
    assert.equal(limited.stopReason, 'time-limit');
    assert.ok(limited.tokens <= 2, `${limited.tokens} tokens after the deadline`);
    await assert.rejects(c.complete({ ...BASE, timeLimitMs: 0 }), inputError('timeLimitMs'));
    const after = await timed(c.complete({ ...BASE, mode: 'line', maxTokens: 8 }));
    assert.ok(after.value && after.ms < 5000, `the worker did not recover: ${after.ms.toFixed(0)} ms, ${String(after.error)}`);
  } finally {
    await c.dispose();
  }
});

/** The shipped model with its manifest's window changed (the large files are linked, not copied). */
function withSeqLen(seqLen: number): string {
  const dir = tmpDir('mod-window-');
  for (const f of fs.readdirSync(SHIPPED_MODEL)) if (f !== 'manifest.json') fs.symlinkSync(path.join(SHIPPED_MODEL, f), path.join(dir, f));
  const m = JSON.parse(fs.readFileSync(path.join(SHIPPED_MODEL, 'manifest.json'), 'utf8'));
  m.architecture.seq_len = seqLen;
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m));
  return dir;
}

test('a 40-token window: completions fit it; a window too small for any prompt is refused at load', async () => {
  const e = await CompletionEngine.load({ modelDir: withSeqLen(40), provider: 'cpu' });
  for (const req of [BASE, { ...BASE, mode: 'line' as const }, { ...BASE, maxTokens: 100000, prefixTokens: 2000, suffixTokens: 2000 }]) {
    const r = await timed(e.complete(req));
    assert.ok(r.value, String(r.error));
    assert.ok(r.ms < SETTLE_MS, `${r.ms.toFixed(0)} ms`);
    assert.ok(r.value.timing.promptTokens + r.value.tokens <= 40, `${r.value.timing.promptTokens} + ${r.value.tokens} tokens`);
  }
  await assert.rejects(CompletionEngine.load({ modelDir: withSeqLen(MIN_SEQ_LEN - 1), provider: 'cpu' }), (err: unknown) =>
    err instanceof EngineError && err.code === 'model-corrupt' && err.message.includes(`architecture.seq_len is ${MIN_SEQ_LEN - 1}; it must be at least ${MIN_SEQ_LEN}`));
});
