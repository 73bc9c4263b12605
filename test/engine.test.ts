// The engine on the shipped model through the real onnxruntime-node.
import '../src/engine/telemetry'; // first: turns onnxruntime telemetry off before it loads
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { EngineClient } from '../src/engine/client';
import { argmax, CompletionEngine } from '../src/engine/engine';
import { EngineError } from '../src/engine/errors';
import { SHIPPED_MODEL, tmpDir } from './helpers';

const SRC = `def fibonacci(n):
    """Return the n-th Fibonacci number."""
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def factorial(n):
    result = 1
    for i in range(1, n + 1):
        result = result * i
    return result
`;

function loadCpu(precision: 'q4' | 'float' = 'q4') {
  return CompletionEngine.load({ modelDir: SHIPPED_MODEL, precision, provider: 'cpu' });
}

test('completes a known prompt and accounts for its compute', async () => {
  const e = await loadCpu();
  const cut = SRC.indexOf('    return result');
  const r = await e.complete({ path: 'math_utils.py', prefix: SRC.slice(0, cut + 4), suffix: SRC.slice(cut + 4), mode: 'line' });
  assert.equal(r.mode, 'line');
  assert.ok(r.tokens > 0 && r.text.length > 0, `empty completion (${r.stopReason})`);
  assert.ok(!r.text.includes('\n'));
  assert.ok(r.compute.flops > 0 && r.compute.flops < r.compute.denseFlops);
  assert.ok(r.compute.saved > 0 && r.compute.saved < 1);
  assert.equal(r.compute.grid.ran.length, r.compute.grid.tokens.length);
  assert.equal(r.compute.grid.kinds.length, r.compute.grid.tokens.length);
  assert.ok(r.compute.grid.kinds.includes('identifier'), r.compute.grid.kinds.join(' '));
  assert.equal(r.provider, 'cpu');
});

test('avoidStart keeps generated code from opening with a comment; argmax honours bans', async () => {
  assert.equal(argmax(new Float32Array([1, 5, 3]), 3, new Uint8Array([0, 1, 0])), 2);
  const e = await loadCpu();
  const prefix = '# a function that adds two numbers\n';
  const r = await e.complete({ path: 'tools/scratch.py', prefix, suffix: '', mode: 'multiline', maxLines: 10, avoidStart: '#' });
  assert.ok(r.text.trim().length > 0, `no code (${r.stopReason})`);
  assert.ok(!r.text.trimStart().startsWith('#'), JSON.stringify(r.text));
  // Only the opening is constrained: comments later in the code stay possible, and other requests are untouched.
  assert.equal((await e.complete({ path: 'tools/scratch.py', prefix, suffix: '', mode: 'multiline', maxLines: 10 })).text.trimStart()[0], '#');
});

test('routed decoding equals a token-by-token reference', async () => {
  const e = await loadCpu('float');
  const prompt = await e.tokenizer.encode(SRC.slice(0, 200));
  const run = async (chunked: boolean) => {
    e.reset();
    let r = chunked ? await e.model.forward(prompt, 0.5) : undefined;
    if (!chunked) for (const id of prompt) r = await e.model.forward([id], 0.5);
    const tokens: number[] = [];
    const logits: Float32Array[] = [];
    const routing: string[] = [];
    for (let i = 0; i < 32; i++) {
      tokens.push(argmax(r!.logits));
      logits.push(r!.logits);
      r = await e.model.forward([tokens[i]], 0.5);
      routing.push(r.steps[0].map((s) => (s.ran ? 1 : 0)).join(''));
    }
    return { tokens, logits, routing, lens: e.model.caches.map((c) => c.len) };
  };
  const a = await run(true);
  const b = await run(false);
  assert.deepEqual(a.tokens, b.tokens);
  assert.deepEqual(a.routing, b.routing);
  assert.deepEqual(a.lens, b.lens);
  for (let i = 0; i < a.logits.length; i++) {
    for (let j = 0; j < a.logits[i].length; j++) assert.ok(Math.abs(a.logits[i][j] - b.logits[i][j]) < 1e-3, `step ${i} logit ${j}`);
  }
  // Routed blocks hold fewer rows than dense ones: skipped tokens add nothing to their cache.
  const arch = e.info.architecture;
  for (const blk of arch.routed_blocks) assert.ok(a.lens[blk] < a.lens[0], `block ${blk}: ${a.lens[blk]} rows`);
});

test('prompt reuse respects the budget: "full" after "balanced" equals a cold "full"', async () => {
  const e = await loadCpu();
  const cut = SRC.indexOf('    return result');
  const req = { path: 'math_utils.py', prefix: SRC.slice(0, cut + 4), suffix: SRC.slice(cut + 4), mode: 'line' as const, maxTokens: 16 };
  const run = async (budget: 'balanced' | 'full') => {
    const r = await e.complete({ ...req, budget });
    const { grid: _grid, prompt: _prompt, generation: _generation, ...totals } = r.compute;
    return { text: r.text, compute: totals, reused: r.timing.reusedTokens, prefilled: r.timing.prefilledTokens, rows: e.model.caches.map((c) => c.len) };
  };
  const cold = await run('full');
  e.reset();
  await run('balanced');
  // The routed caches now hold only the rows "balanced" ran; "full" must not build on them.
  assert.deepEqual(await run('full'), cold);
  // The same budget again still reuses the prompt (all but the last token, fed again for its logits).
  const again = await run('full');
  assert.deepEqual([again.reused, again.prefilled], [cold.prefilled - 1, 1]);
  assert.equal(again.text, cold.text);
});

test('cancellation stops generation within one token', async () => {
  const e = await loadCpu();
  let forwards = 0;
  const orig = e.model.forward.bind(e.model);
  e.model.forward = (ids, thr, all) => {
    forwards++;
    return orig(ids, thr, all);
  };
  let cancelAfter = 3;
  await assert.rejects(
    e.complete({ path: 'a.py', prefix: SRC, suffix: '', mode: 'multiline', maxTokens: 100, threshold: -1 }, () => forwards >= cancelAfter),
    (err: unknown) => err instanceof EngineError && err.code === 'cancelled',
  );
  assert.equal(forwards, cancelAfter);
  cancelAfter = 0;
});

test('the worker client: newest request wins, abort cancels, typing thread stays free', async () => {
  const c = new EngineClient(path.join(__dirname, '../src/engine/worker.js'));
  try {
    const info = await c.load({ modelDir: SHIPPED_MODEL, provider: 'cpu' });
    assert.equal(info.provider, 'cpu');
    const long = { path: 'a.py', prefix: SRC, suffix: '', mode: 'multiline' as const, maxTokens: 150, threshold: -1 };
    // While the worker computes, this thread keeps ticking (the editor would stay responsive).
    let maxGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 2);
    const first = c.complete(long);
    await new Promise((r) => setTimeout(r, 30));
    const second = c.complete({ ...long, maxTokens: 3 });
    await assert.rejects(first, (e: unknown) => e instanceof EngineError && e.code === 'cancelled');
    const r = await second;
    clearInterval(timer);
    assert.ok(r.tokens <= 3);
    assert.ok(maxGap < 50, `main thread stalled ${maxGap.toFixed(1)} ms`);
    const ac = new AbortController();
    const third = c.complete(long, ac.signal);
    setTimeout(() => ac.abort(), 20);
    await assert.rejects(third, (e: unknown) => e instanceof EngineError && e.code === 'cancelled');
  } finally {
    await c.dispose();
  }
});

function brokenCopy(mutate: (dir: string) => void): string {
  const dir = tmpDir('mod-broken-');
  for (const f of fs.readdirSync(SHIPPED_MODEL)) fs.copyFileSync(path.join(SHIPPED_MODEL, f), path.join(dir, f));
  mutate(dir);
  return dir;
}

test('missing, truncated, corrupt and wrong-version models give clear errors', async () => {
  const cases: [string, (d: string) => void, EngineError['code'], RegExp][] = [
    ['no folder', (d) => fs.rmSync(d, { recursive: true }), 'model-missing', /No model found/],
    ['missing onnx', (d) => fs.rmSync(path.join(d, 'model.q4.onnx')), 'model-missing', /missing/],
    ['truncated', (d) => fs.truncateSync(path.join(d, 'model.q4.onnx'), 1000), 'model-corrupt', /truncated/],
    ['garbage', (d) => {
      const p = path.join(d, 'model.q4.onnx');
      fs.writeFileSync(p, Buffer.alloc(fs.statSync(p).size, 7));
    }, 'model-corrupt', /could not load/],
    ['bad manifest', (d) => fs.writeFileSync(path.join(d, 'manifest.json'), '{oops'), 'model-corrupt', /not valid JSON/],
    ['future version', (d) => {
      const m = JSON.parse(fs.readFileSync(path.join(d, 'manifest.json'), 'utf8'));
      fs.writeFileSync(path.join(d, 'manifest.json'), JSON.stringify({ ...m, formatVersion: 99 }));
    }, 'model-version', /format version 99/],
  ];
  for (const [name, mutate, code, msg] of cases) {
    const dir = brokenCopy(mutate);
    await assert.rejects(CompletionEngine.load({ modelDir: dir, provider: 'cpu' }), (e: unknown) => {
      assert.ok(e instanceof EngineError, `${name}: ${e}`);
      assert.equal(e.code, code, name);
      assert.match(e.message, msg, name);
      return true;
    });
  }
});

test('a provider that cannot load falls back to the CPU and says why', async () => {
  for (const provider of ['cuda', 'webgpu'] as const) {
    const e = await CompletionEngine.load({ modelDir: SHIPPED_MODEL, provider });
    const last = e.info.attempts.at(-1)!;
    assert.ok(last.ok && last.provider === e.info.provider, JSON.stringify(e.info.attempts));
    if (e.info.provider === provider) {
      // A machine with that GPU: nothing to fall back from, and the GPU must really complete.
      assert.equal(e.info.attempts.length, 1, JSON.stringify(e.info.attempts));
    } else {
      assert.equal(e.info.provider, 'cpu');
      const failed = e.info.attempts.find((a) => a.provider === provider);
      assert.ok(failed && !failed.ok && failed.reason, JSON.stringify(e.info.attempts));
    }
    const r = await e.complete({ path: 'a.py', prefix: 'def add(a, b):\n    return ', suffix: '\n', maxTokens: 4 });
    assert.ok(r.tokens > 0);
  }
});
