// The cache n-gram model, its documents and its mixing into logits, on small fixtures with a
// character-level stand-in tokenizer (one id per UTF-16 unit), so counts can be checked by hand.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lookup, MAX_CONTEXT, MAX_OCCURRENCES, NgramCounts, predict, TokenChunk } from '../src/engine/cache-model';
import { cacheWeight, CacheMixer, mixLogits, mixture } from '../src/engine/cache-mix';
import { siblingsOf } from '../src/report/cache';
import { softmax } from './helpers';
import { CHUNK_LINES, DocumentCache, editsFromChanges, DocumentStore, MAX_OTHER_CHARS, MAX_OTHER_DOCUMENTS, splitLines } from '../src/engine/document-cache';

const ids = (s: string) => [...s].map((c) => c.charCodeAt(0));
const chunk = (s: string) => new TokenChunk(Uint32Array.from(ids(s)));
const encoded: string[] = [];
const encode = async (texts: string[]) => {
  encoded.push(...texts);
  return texts.map(ids);
};
const probsOf = (p: ReturnType<typeof lookup>) => Object.fromEntries([...(p?.probs ?? [])].map(([k, v]) => [String.fromCharCode(k), +v.toFixed(6)]));

test('counts continuations of the longest matching context and backs off Witten-Bell style', () => {
  // "ab" is followed by c, c, d; "xab" only by c.
  const p = lookup([chunk('xabc abc abd')], ids('xab'));
  assert.ok(p);
  assert.equal(p.context, 3);
  assert.equal(p.count, 1);
  // Order "ab": c 2/3, d 1/3. Order "xab": n=1, one distinct: c = (1 + 1·2/3)/2, d = (0 + 1·1/3)/2.
  assert.deepEqual(probsOf(p), { c: +(5 / 6).toFixed(6), d: +(1 / 6).toFixed(6) });
  assert.ok(Math.abs([...p.probs.values()].reduce((a, b) => a + b, 0) - 1) < 1e-12);
});

test('contexts shorter than two tokens, unseen bigrams and chunk ends predict nothing', () => {
  assert.equal(lookup([chunk('abcabc')], ids('c')), undefined);
  assert.equal(lookup([chunk('abcabc')], ids('zq')), undefined);
  // "bc" only occurs at the end of the chunk: nothing follows it there.
  assert.equal(lookup([chunk('abc')], ids('bc')), undefined);
  // Matches stop at MAX_CONTEXT (eight) tokens of context (order 9).
  const long = lookup([chunk('0123456789abc')], ids('0123456789'));
  assert.equal(long?.context, MAX_CONTEXT);
  assert.equal(MAX_CONTEXT, 8);
});

test('counts add over chunks and stop at the occurrence budget', () => {
  const p = lookup([chunk('abc'), chunk('abd'), chunk('abd')], ids('ab'));
  assert.deepEqual(probsOf(p), { c: +(1 / 3).toFixed(6), d: +(2 / 3).toFixed(6) });
  const many = chunk('ab'.repeat(MAX_OCCURRENCES + 50) + 'x');
  const counts = new NgramCounts();
  assert.equal(many.collect(ids('ab'), counts, MAX_OCCURRENCES), 0);
  assert.equal(counts.totals[0], MAX_OCCURRENCES);
  assert.equal(predict(new NgramCounts()), undefined);
});

test('splitLines keeps whole lines and every character', () => {
  const text = Array.from({ length: 70 }, (_, i) => `line ${i}`).join('\n');
  const parts = splitLines(text);
  assert.equal(parts.join(''), text);
  assert.deepEqual(parts.map((p) => p.split('\n').length - (p.endsWith('\n') ? 1 : 0)), [CHUNK_LINES, CHUNK_LINES, 70 - 2 * CHUNK_LINES]);
  assert.deepEqual(splitLines(''), []);
});

function randomEdits(seed: number, text: string, n: number): { text: string; doc: DocumentCache } {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const doc = new DocumentCache('u', 'python', text);
  for (let i = 0; i < n; i++) {
    const offset = Math.floor(rnd() * (text.length + 1));
    const deleteCount = Math.min(text.length - offset, Math.floor(rnd() * 40));
    const insert = rnd() < 0.3 ? 'x = foo(bar)\n' : rnd() < 0.5 ? '\n' : 'q';
    text = text.slice(0, offset) + insert + text.slice(offset + deleteCount);
    doc.edit({ offset, deleteCount, text: insert });
  }
  return { text, doc };
}

test('incremental edits give the text and predictions of a fresh build, re-tokenizing only touched chunks', async () => {
  const base = Array.from({ length: 200 }, (_, i) => `    value_${i % 7} = compute(value_${(i + 3) % 7}, ${i})`).join('\n') + '\n';
  const { text, doc } = randomEdits(7, base, 60);
  assert.equal(doc.text, text);
  const fresh = new DocumentCache('v', 'python', text);
  await fresh.ready(encode);
  encoded.length = 0;
  await doc.ready(encode);
  for (const ctx of ['value_3 = ', 'compute(', ' = foo(', 'x = ']) assert.deepEqual(probsOf(doc.predict(ids(ctx))), probsOf(fresh.predict(ids(ctx))), ctx);
  // One typed character re-tokenizes about one chunk, not the document.
  encoded.length = 0;
  doc.edit({ offset: 1000, deleteCount: 0, text: 'z' });
  await doc.ready(encode);
  const chars = encoded.reduce((n, t) => n + t.length, 0);
  assert.ok(chars < 3 * 45 * CHUNK_LINES && chars < text.length / 2, `${chars} characters re-tokenized`);
  assert.throws(() => doc.edit({ offset: doc.length + 1, deleteCount: 0, text: 'x' }), RangeError);
});

test('a multi-cursor change event applies as edits from the last to the first', () => {
  const doc = new DocumentCache('u', 'js', 'let a = 1;\nlet b = 2;\n');
  // Both changes are given against the text before the event (as VS Code reports them).
  for (const e of editsFromChanges([{ rangeOffset: 4, rangeLength: 1, text: 'alpha' }, { rangeOffset: 15, rangeLength: 1, text: 'beta' }])) doc.edit(e);
  assert.equal(doc.text, 'let alpha = 1;\nlet beta = 2;\n');
});

test('the typed part of the cursor line stays out of the counts, and the suffix does not pose as its continuation', async () => {
  const prefix = 'self.name = name\nself.';
  const doc = new DocumentCache('u', 'python', prefix + 'size = size\n');
  doc.isolateCursor(prefix.length);
  await doc.ready(encode);
  assert.equal(doc.text, prefix + 'size = size\n');
  assert.equal(doc.tokens, doc.length - 'self.'.length);
  // Without the boundary, "f." would be followed by "s" (from the suffix); with it, only by "n".
  assert.deepEqual(probsOf(doc.predict(ids('lf.'))), { n: 1 });
  // Moving the cursor elsewhere gives the line back to the counts.
  doc.isolateCursor(0);
  await doc.ready(encode);
  assert.equal(doc.tokens, doc.length);
  // Typing at the cursor merges the pieces again.
  doc.isolateCursor(prefix.length);
  doc.edit({ offset: prefix.length, deleteCount: 0, text: 'n' });
  await doc.ready(encode);
  assert.equal(doc.text, prefix + 'nsize = size\n');
  assert.equal(doc.tokens, doc.length);
});

test('the store syncs by version, bounds the other documents and prepares same-language caches', async () => {
  const store = new DocumentStore(encode);
  store.open('a.py', 'python', 'import os\n', 1);
  assert.equal(store.edit('a.py', 1, 2, [{ offset: 0, deleteCount: 0, text: '# hi\n' }]), true);
  assert.equal(store.get('a.py')!.text, '# hi\nimport os\n');
  // A missed edit drops the document so the caller re-sends it whole.
  assert.equal(store.edit('a.py', 1, 3, []), false);
  assert.equal(store.get('a.py'), undefined);
  // So does an edit that does not fit the text (nothing half-applied stays).
  store.open('b.py', 'python', 'x\n', 1);
  assert.equal(store.edit('b.py', 1, 2, [{ offset: 0, deleteCount: 0, text: 'y' }, { offset: 9, deleteCount: 0, text: 'z' }]), false);
  assert.equal(store.get('b.py'), undefined);
  for (let i = 0; i < MAX_OTHER_DOCUMENTS + 5; i++) store.open(`f${i}.py`, i % 2 ? 'python' : 'javascript', 'x = 1\n');
  assert.equal(store.size, MAX_OTHER_DOCUMENTS + 1);
  store.open('big.py', 'python', 'y'.repeat(MAX_OTHER_CHARS));
  store.open('cur.py', 'python', 'x = 2\n');
  // big.py alone fills the budget for others: every older one went.
  assert.deepEqual([store.get('big.py') !== undefined, store.size], [true, 2]);
  await assert.rejects(store.prepare('nope.py', 0), RangeError);
  const two = new DocumentStore(encode);
  for (const [uri, lang] of [['lib.py', 'python'], ['other.js', 'javascript'], ['util.py', 'python'], ['cur.py', 'python']]) two.open(uri, lang, 'x = 1\n');
  const caches = await two.prepare('cur.py', 3);
  assert.equal(caches.file.uri, 'cur.py');
  assert.deepEqual(caches.workspace.map((d) => d.uri), ['util.py', 'lib.py']);
  // The cursor line's typed part ("x =") is not counted.
  assert.ok(caches.file.tokens === 3 && caches.workspace[0].tokens === 6);
  two.close('lib.py');
  assert.equal(two.get('lib.py'), undefined);
});

test('mixed logits have the mixture as their softmax', () => {
  const logits = Float32Array.from([2, 1, 0.5, -1, 0]);
  const before = softmax(logits);
  const file = { lambda: 0.6, probs: new Map([[3, 0.75], [1, 0.25]]) };
  const ws = { lambda: 0.2, probs: new Map([[4, 1]]) };
  assert.equal(mixLogits(logits, 5, [file, ws]), true);
  const after = softmax(logits);
  for (let i = 0; i < 5; i++) {
    const want = mixture(before[i], [file.probs.get(i) ?? 0, ws.probs.get(i) ?? 0], [0.6, 0.2]);
    assert.ok(Math.abs(after[i] - want) < 1e-6, `token ${i}: ${after[i]} vs ${want}`);
  }
  // The cache's confident token now wins; nothing to mix leaves the logits alone.
  assert.equal(after.indexOf(Math.max(...after)), 3);
  const same = Float32Array.from([1, 2]);
  assert.equal(mixLogits(same, 2, [{ lambda: 0, probs: new Map([[0, 1]]) }]), false);
  assert.deepEqual([...same], [1, 2]);
});

test('the cache weight grows with context length and count', () => {
  const w = { byContext: [0.1, 0.2, 0.4, 0.8], halfCount: 2, workspace: 0.5 };
  const at = (context: number, count: number, f = 1) => cacheWeight({ context, count, probs: new Map() }, w, f);
  assert.equal(at(5, 2), 0.4);
  assert.equal(at(8, 2), 0.4); // longer than the list: its last weight
  assert.ok(at(2, 1) < at(3, 1) && at(3, 1) < at(3, 8) && at(3, 8) < 0.2);
  assert.equal(at(5, 2, 0.5), 0.2);
});

test('the mixer prefers the file over the workspace and reports what it used', async () => {
  const store = new DocumentStore(encode);
  store.open('lib.py', 'python', 'total = alpha + beta\n');
  store.open('cur.py', 'python', 'total = gamma\n');
  const caches = await store.prepare('cur.py', 0);
  const mixer = new CacheMixer(caches, { byContext: [0.5, 0.5, 0.5, 0.5], halfCount: 1, workspace: 0.5 });
  const parts = mixer.parts(ids('total = '));
  assert.deepEqual(parts.map((p) => [p.lambda, String.fromCharCode(...p.probs.keys())]), [[0.25, 'g'], [0.125, 'a']]);
  assert.deepEqual([mixer.use.fileTokens, mixer.use.workspaceFiles, mixer.use.workspaceTokens], [14, 1, 21]);
});

test('held-out cases find their sibling files: same directory, same language', () => {
  const c = (p: string, lang: string) => ({ id: p, path: p, lang, prefix: 'a', suffix: '', target: 'b' });
  const files = new Map([['pkg/a.py', { lang: 'python', text: '' }], ['pkg/b.py', { lang: 'python', text: '' }], ['pkg/c.js', { lang: 'javascript', text: '' }], ['other/d.py', { lang: 'python', text: '' }]]);
  assert.deepEqual(siblingsOf(c('pkg/a.py', 'python'), files), ['pkg/b.py']);
  assert.deepEqual(siblingsOf(c('other/d.py', 'python'), files), []);
});
