// The cache model end to end on the shipped model through onnxruntime-node: a completion copies
// an identifier defined far outside the model's window, in process and through the worker with
// a document synced edit by edit.
import '../src/engine/telemetry'; // first: turns onnxruntime telemetry off before it loads
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { EngineClient } from '../src/engine/client';
import { DocumentStore } from '../src/engine/document-cache';
import { CompletionEngine } from '../src/engine/engine';
import { EngineError } from '../src/engine/errors';
import { SHIPPED_MODEL } from './helpers';

// A name the model cannot guess from the code around it: only the file's own text holds it.
const NAME = 'vbz_rescale_qk';
const filler = Array.from({ length: 60 }, (_, i) => `def helper_${i}(x):\n    y = x * ${i + 3} - ${i}\n    return y + ${i * 7}\n\n`).join('');
const HEAD = `import math\n\n\ndef ${NAME}(values, scale):\n    return [v * scale for v in values]\n\n\ndef load_calibrated(raw_values):\n    readings = ${NAME}(raw_values, 2.5)\n    return readings\n\n\n`;
const PREFIX = `${HEAD}${filler}def main():\n    raw_values = [1.0, 2.0]\n    readings = `;
const SUFFIX = '\n    print(readings)\n';

test('the fixture puts the identifier far outside the model window', () => {
  // The prompt holds about 340 tokens (~1,000 characters) of prefix.
  assert.ok(PREFIX.length - PREFIX.lastIndexOf(NAME) > 3000, `${PREFIX.length - PREFIX.lastIndexOf(NAME)} characters`);
});

test('with the file cache a completion copies an identifier defined outside the window; routing accounting unchanged', async () => {
  const e = await CompletionEngine.load({ modelDir: SHIPPED_MODEL, provider: 'cpu' });
  const req = { path: 'sensors.py', prefix: PREFIX, suffix: SUFFIX, mode: 'line' as const };
  const alone = await e.complete(req);
  assert.ok(!alone.text.includes(NAME), `the model alone cannot know it: ${JSON.stringify(alone.text)}`);
  assert.equal(alone.cache, undefined);
  const store = new DocumentStore((t) => e.tokenizer.encodeMany(t));
  store.open('sensors.py', 'python', PREFIX + SUFFIX);
  const caches = await store.prepare('sensors.py', PREFIX.length);
  const r = await e.complete(req, undefined, caches);
  assert.ok(r.text.startsWith(NAME), `copied from outside the window: ${JSON.stringify(r.text)}`);
  assert.ok(r.cache && r.cache.fileTokens > 500 && r.cache.changed.length === r.tokens);
  assert.ok(r.cache.changed.some((c) => c === 1), 'the cache changed at least one choice');
  // Same model calls and accounting: every fed token metered, routed blocks still skipping.
  assert.ok(r.compute.flops > 0 && r.compute.flops < r.compute.denseFlops);
  assert.equal(r.compute.grid.ran.length, r.compute.grid.tokens.length);
  // Every compute budget mixes the same way (the cache knows nothing of routing).
  for (const budget of ['quality', 'fast', 'full'] as const) {
    const b = await e.complete({ ...req, budget }, undefined, caches);
    assert.ok(b.text.startsWith(NAME), `${budget}: ${JSON.stringify(b.text)}`);
  }
});

test('mid-word, the document\'s identifiers finish the word where the n-gram cache alone invents one', async () => {
  const e = await CompletionEngine.load({ modelDir: SHIPPED_MODEL, provider: 'cpu' });
  const prefix = `${HEAD}${filler}def main():\n    raw_values = [1.0, 2.0]\n    out = [vbz_resc`;
  const req = { path: 'sensors.py', prefix, suffix: SUFFIX, mode: 'line' as const };
  const store = new DocumentStore((t) => e.tokenizer.encodeMany(t));
  store.open('sensors.py', 'python', prefix + SUFFIX);
  const caches = await store.prepare('sensors.py', prefix.length);
  const ngramOnly = await e.complete({ ...req, wordWeights: { max: 0, halfCount: 1, workspace: 0, top: 1 } }, undefined, caches);
  assert.ok(!ngramOnly.text.startsWith('ale_qk'), `without the identifiers: ${JSON.stringify(ngramOnly.text)}`);
  const r = await e.complete(req, undefined, caches);
  assert.ok(r.text.startsWith('ale_qk'), `the word ends as ${NAME}: ${JSON.stringify(r.text)}`);
  assert.equal(r.cache!.changed[0], 1, 'the first token is marked as changed by the cache');
});

test('through the worker: a synced document, edits, the cache in decoding, stale versions refused', async () => {
  const c = new EngineClient(path.join(__dirname, '../src/engine/worker.js'));
  try {
    await c.load({ modelDir: SHIPPED_MODEL, provider: 'cpu' });
    const uri = 'file:///sensors.py';
    const typed = PREFIX.slice(0, -'readings = '.length);
    await c.open(uri, 'python', 1, typed + SUFFIX);
    // The user types the rest of the line in two keystrokes' worth of edits.
    void c.edit(uri, 1, 2, [{ offset: typed.length, deleteCount: 0, text: 'readings' }]);
    void c.edit(uri, 2, 3, [{ offset: typed.length + 'readings'.length, deleteCount: 0, text: ' = ' }]);
    const base = { path: 'sensors.py', mode: 'line' as const };
    const r = await c.complete({ ...base, document: { uri, version: 3, offset: PREFIX.length } });
    assert.ok(r.text.startsWith(NAME), JSON.stringify(r.text));
    assert.ok(r.cache && r.cache.fileTokens > 500);
    await assert.rejects(c.complete({ ...base, document: { uri, version: 2, offset: 0 } }), (e: unknown) => e instanceof EngineError && e.code === 'stale-document');
    // A missed edit makes the worker drop the document until it is sent whole again.
    await c.edit(uri, 7, 8, []);
    await assert.rejects(c.complete({ ...base, document: { uri, version: 3, offset: PREFIX.length } }), (e: unknown) => e instanceof EngineError && e.code === 'stale-document');
  } finally {
    await c.dispose();
  }
});
