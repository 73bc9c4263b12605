// Snippet retrieval (Jaccard over identifiers) and the prompt layout it feeds, on small fixtures,
// then through the engine on the shipped model.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CompletionEngine } from '../src/engine/engine';
import { buildPrompt } from '../src/engine/prompt';
import { bestSnippet, identifiers, jaccard, snippetQuery, SNIPPET_OPTIONS } from '../src/engine/snippets';
import { SPECIAL_IDS } from '../src/engine/special-tokens';
import { CodeTokenizer } from '../src/engine/tokenizer';
import { SHIPPED_MODEL } from './helpers';
import * as path from 'node:path';

test('identifiers and Jaccard similarity', () => {
  assert.deepEqual([...identifiers('self.k = k.view(B, T)  # 2x')], ['self', 'k', 'view', 'B', 'T', 'x']);
  assert.equal(jaccard(new Set(['a', 'b']), new Set(['b', 'c'])), 1 / 3);
  assert.equal(jaccard(new Set(), new Set(['a'])), 0);
});

test('the query is the whole lines above the cursor line, so typing along the line keeps it', () => {
  const prefix = 'a = 1\nb = 2\nc = 3\nd = f(';
  assert.equal(snippetQuery(prefix, { ...SNIPPET_OPTIONS, windowLines: 2 }), 'b = 2\nc = 3');
  assert.equal(snippetQuery(prefix + 'x, y', { ...SNIPPET_OPTIONS, windowLines: 2 }), 'b = 2\nc = 3');
});

test('the most similar window wins and brings the lines after it', () => {
  const o = { windowLines: 2, stride: 1, followLines: 1, minScore: 0.3 };
  const other = 'import os\nfoo = 1\nrows = load_rows(path)\ntotal = sum_rows(rows)\nprint(total)\nbar = 2\n';
  const s = bestSnippet('rows = load_rows(path)\ntotal = sum_rows(rows)', [
    { path: 'noise.py', text: 'x = 1\ny = 2\nz = 3\n' },
    { path: 'lib/report.py', text: other, key: 'file:///lib/report.py@1' },
  ], o);
  assert.ok(s);
  assert.equal(s.path, 'lib/report.py');
  assert.equal(s.text, 'rows = load_rows(path)\ntotal = sum_rows(rows)\nprint(total)\n');
  assert.equal(s.score, 1);
  // Nothing similar enough: no snippet rather than a random one.
  assert.equal(bestSnippet('alpha beta gamma', [{ path: 'a.py', text: other }], o), undefined);
});

test('a snippet goes first as a sample of its own, cut from the top to its budget', async () => {
  const tok = CodeTokenizer.load(path.join(SHIPPED_MODEL, 'tokenizer.json'));
  const ctx = { prefix: 'def main():\n    ', suffix: '\n' };
  const plain = await buildPrompt(tok, 'app.py', ctx, { prefixTokens: 100, suffixTokens: 20 });
  const text = Array.from({ length: 40 }, (_, i) => `value_${i} = compute(${i})\n`).join('');
  const p = await buildPrompt(tok, 'app.py', ctx, { prefixTokens: 100, suffixTokens: 20 }, { path: 'lib/util.py', text, maxTokens: 48 });
  assert.equal(p.tokens[0], SPECIAL_IDS.fileSep);
  assert.ok(p.snippetTokens > 0 && p.snippetTokens <= 48, `${p.snippetTokens}`);
  assert.equal(p.tokens[p.snippetTokens - 1], SPECIAL_IDS.endOfText);
  // The file's own prompt follows unchanged.
  assert.deepEqual(p.tokens.slice(p.snippetTokens), plain.tokens);
  const body = tok.decode(p.tokens.slice(0, p.snippetTokens - 1).filter((t) => t > SPECIAL_IDS.fileSep));
  assert.ok(body.startsWith('lib/util.py\n'), body);
  assert.ok(body.endsWith('value_39 = compute(39)\n'), 'the tail of the snippet is kept');
});

test('the engine puts a snippet from outside its window in the prompt, within the budget, and reuses the prompt while typing', async () => {
  const e = await CompletionEngine.load({ modelDir: SHIPPED_MODEL, provider: 'cpu' });
  const head = 'def scale_readings(raw_values, factor):\n    scaled = [v * factor for v in raw_values]\n    return clip_values(scaled, 0, 100)\n\n\n';
  const filler = Array.from({ length: 60 }, (_, i) => `def helper_${i}(x):\n    return x * ${i + 3}\n\n`).join('');
  const prefix = `${head}${filler}def scale_again(raw_values, factor):\n    scaled = [v * factor for v in raw_values]\n    return `;
  const req = { path: 'sensors.py', prefix, suffix: '\n', mode: 'line' as const, snippetTokens: 64 };
  const r = await e.complete(req);
  assert.deepEqual(r.snippet?.path, 'sensors.py');
  assert.ok(r.snippet!.tokens <= 64);
  const off = await e.complete({ ...req, snippetTokens: 0 });
  assert.equal(off.snippet, undefined);
  assert.ok(off.timing.promptTokens < r.timing.promptTokens + 64);
  await e.complete(req);
  const typed = await e.complete({ ...req, prefix: prefix + 'c' });
  assert.ok(typed.timing.reusedTokens > typed.timing.promptTokens - 4, `reused ${typed.timing.reusedTokens} of ${typed.timing.promptTokens}`);
});
