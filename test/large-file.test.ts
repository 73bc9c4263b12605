// Large documents: the worker holds an 8 MB file synced by edits and completes in it at the
// latency of a small one. (Each request used to join the whole text, scan every line of the
// prefix and tokenize the whole file for its cache: one request in 480 finished within 10 s.)
import '../src/engine/telemetry'; // first: turns onnxruntime telemetry off before it loads
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { EngineClient } from '../src/engine/client';
import { DocumentCache, INDEX_RADIUS, splitLines } from '../src/engine/document-cache';
import { percentile } from '../src/engine/metrics';
import { prefixWindow, suffixWindow, WINDOW_LINE_STEP } from '../src/engine/prompt';
import { SHIPPED_MODEL } from './helpers';

/** Python source of about `chars` characters, every function distinct. */
function source(chars: number): string {
  const parts: string[] = [];
  for (let i = 0, n = 0; n < chars; i++) {
    const f = `def scale_${i}(values, factor=${i % 7}):\n    total = 0\n    for v in values:\n        total += v * factor + ${i}\n    return total\n\n\n`;
    parts.push(f);
    n += f.length;
  }
  return parts.join('').slice(0, chars);
}

test('around() gives the prompt windows the whole text would, from a bounded slice', () => {
  const text = source(300_000);
  const doc = new DocumentCache('u', 'python', text);
  // Edits make chunks of uneven sizes and boundaries inside lines.
  for (const [offset, t] of [[1000, 'x = 1\n'], [150_000, 'y'], [150_001, '\n\n']] as const) doc.edit({ offset, deleteCount: 0, text: t });
  const full = doc.text;
  for (const offset of [0, 17, 5000, 150_003, 299_000, full.length]) {
    const chars = 3000;
    const { prefix, suffix } = doc.around(offset, chars);
    const whole = { prefix: full.slice(0, offset), suffix: full.slice(offset) };
    assert.ok(whole.prefix.endsWith(prefix) && whole.suffix.startsWith(suffix), `offset ${offset}`);
    assert.ok(prefix.length >= Math.min(chars, offset) && suffix.length === Math.min(chars, whole.suffix.length), `offset ${offset}`);
    const begin = offset - prefix.length;
    assert.equal((full.slice(0, begin).match(/\n/g) ?? []).length % WINDOW_LINE_STEP, 0, `offset ${offset}: not an aligned line`);
    assert.ok(begin === 0 || full[begin - 1] === '\n', `offset ${offset}: not a line start`);
    for (const m of [90, 900, chars - 1]) {
      assert.equal(prefixWindow(prefix, m), prefixWindow(whole.prefix, m), `offset ${offset}, ${m} chars`);
      assert.equal(suffixWindow(suffix, m), suffixWindow(whole.suffix, m), `offset ${offset}, ${m} chars`);
    }
  }
  // Minified code: one line is cut into chunks of bounded size, every character kept.
  const minified = 'a=1;'.repeat(10_000) + '\u{1F600}'.repeat(3000);
  const parts = splitLines(minified);
  assert.equal(parts.join(''), minified);
  assert.ok(parts.length > 10 && parts.every((p) => p.length <= 4096 && !/^[\uDC00-\uDFFF]/.test(p)));
});

test('an 8 MB document completes at the latency of a small one', async () => {
  const c = new EngineClient(path.join(__dirname, '../src/engine/worker.js'));
  try {
    await c.load({ modelDir: SHIPPED_MODEL, provider: 'cpu' });
    const latencies = async (chars: number) => {
      let text = source(chars);
      const uri = `file:///work/scale-${chars}.py`;
      await c.open(uri, 'python', 1, text);
      let offset = text.indexOf('\n', Math.floor(text.length / 2)) + 1;
      const ms: number[] = [];
      let last;
      for (let version = 2; version <= 9; version++) {
        // Type a character of a new line at the cursor, as the editor syncs it, and ask there.
        const typed = 'def nx'[(version - 2) % 6];
        await c.edit(uri, version - 1, version, [{ offset, deleteCount: 0, text: typed }]);
        text = text.slice(0, offset) + typed + text.slice(offset);
        offset++;
        const t0 = performance.now();
        last = await c.complete({ path: 'scale.py', mode: 'line', maxTokens: 16, document: { uri, version, offset } });
        ms.push(performance.now() - t0);
      }
      await c.close(uri);
      return { ms, last: last!, text, offset };
    };
    const small = await latencies(20_000);
    const large = await latencies(8_000_000);
    console.log(`completion ms, 20 KB: ${small.ms.map((m) => m.toFixed(0)).join(' ')}; 8 MB: ${large.ms.map((m) => m.toFixed(0)).join(' ')}`);
    // Generous bounds for a loaded 2-core machine; before the fix the first request alone took ~9 s.
    for (const m of large.ms) assert.ok(m < 1500, `an 8 MB completion took ${m.toFixed(0)} ms`);
    assert.ok(percentile(large.ms, 50) < percentile(small.ms, 50) + 500, `median 8 MB ${percentile(large.ms, 50).toFixed(0)} ms vs 20 KB ${percentile(small.ms, 50).toFixed(0)} ms`);
    // The cache counts only the text around the cursor (bounded memory and lookups).
    assert.ok(large.last.cache && large.last.cache.fileTokens < INDEX_RADIUS, `${large.last.cache?.fileTokens} file tokens counted`);
    // Reading only the text around the cursor changes nothing: the same prompt as from the whole text.
    const at = { path: 'scale.py', mode: 'line' as const, maxTokens: 16, cacheMix: false };
    await c.open('file:///work/check.py', 'python', 1, large.text);
    const windowed = await c.complete({ ...at, document: { uri: 'file:///work/check.py', version: 1, offset: large.offset } });
    const whole = await c.complete({ ...at, prefix: large.text.slice(0, large.offset), suffix: large.text.slice(large.offset) });
    assert.deepEqual([windowed.text, windowed.timing.promptTokens], [whole.text, whole.timing.promptTokens]);
  } finally {
    await c.dispose();
  }
});
