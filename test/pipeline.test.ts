// Context, prompt and stop stages on small fixtures.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkText, splitAtCursor } from '../src/engine/document';
import { EngineError } from '../src/engine/errors';
import { editSimilarity, exactMatch, percentile } from '../src/engine/metrics';
import { prefixWindow, suffixWindow, WINDOW_LINE_STEP } from '../src/engine/prompt';
import { applyStopRules, chooseMode, stopAtLoop, stopAtRepeatedLines, stopContextFor } from '../src/engine/stop';
import { parseArgs } from '../src/cli/main';

test('cursor split is 1-based and refuses positions outside the file', () => {
  assert.deepEqual(splitAtCursor('ab\ncd\n', 2, 2), { prefix: 'ab\nc', suffix: 'd\n' });
  assert.deepEqual(splitAtCursor('ab\ncd', 1, 3), { prefix: 'ab', suffix: '\ncd' });
  assert.throws(() => splitAtCursor('ab', 2, 1), EngineError);
  assert.throws(() => splitAtCursor('ab', 1, 4), EngineError);
});

test('binary and huge documents are refused with a reason', () => {
  assert.throws(() => checkText('abc\u0000def', 'x.bin'), /binary/);
  assert.throws(() => checkText('a'.repeat(9 * 1024 * 1024), 'big.js'), /MB/);
  checkText('const a = 1;\n', 'ok.ts');
});

test('the prefix window starts on an aligned line and stays put while typing', () => {
  const lines = Array.from({ length: 100 }, (_, i) => `line ${i} ` + 'x'.repeat(30));
  const prefix = lines.join('\n') + '\nconst a';
  const w1 = prefixWindow(prefix, 1000);
  const w2 = prefixWindow(prefix + 'bc', 1000);
  assert.ok(w1.length <= 1000 && w1.endsWith('const a'));
  const start = lines.findIndex((l) => w1.startsWith(l));
  assert.equal(start % WINDOW_LINE_STEP, 0);
  assert.equal(w2.slice(0, 200), w1.slice(0, 200));
  assert.equal(prefixWindow('short', 1000), 'short');
  assert.equal(suffixWindow('a\nb\nc\n', 4), 'a\nb\n');
});

test('mode: one line when code sits right of the cursor, several only where a block opens', () => {
  assert.equal(chooseMode('foo(', 'x)\n'), 'line');
  assert.equal(chooseMode('if (a) {', '\n}'), 'multiline');
  assert.equal(chooseMode('def f(x):', '\n'), 'multiline');
  assert.equal(chooseMode('const a = ', '\n'), 'line');
});

test('loop rule: a repeating tail is cut back to its first unit, real code is left alone', () => {
  const cut = (t: string) => t.slice(0, stopAtLoop(t));
  // Seen from the model on held-out code.
  assert.equal(cut('(a, b, b, b, b'), '(a, b');
  assert.equal(cut('"https://docs.com/docs/docs/docs/docs/'), '"https://docs.com/docs');
  const lines = '\n    this.x = this.x.y;\n\n    this.x = this.x.y;\n\n    this.x = this.x.y;\n\n';
  assert.equal(cut(lines), '\n    this.x = this.x.y;\n');
  // Not loops: two repeats, short units under four times, whitespace, ordinary code.
  for (const ok of ['foo(a, b, b)', 'x = [0, 0, 0]', '        ', 'if (a) { b(); }\nif (c) { d(); }\n', 'self.a = a\nself.b = b\nself.c = c\n']) {
    assert.equal(stopAtLoop(ok), undefined, ok);
  }
  // Units up to MAX_LOOP_PERIOD characters are caught.
  const unit = 'assert.equal(compute(1), 2); // same\n';
  assert.equal(cut(`x\n${unit}${unit}${unit}`), `x\n${unit.trimEnd()}`);
  const drifting = '\n  const s = {\n    const s = {\n      const s = {\n        const';
  assert.equal(drifting.slice(0, stopAtRepeatedLines(drifting)), '\n  const s = {');
  assert.equal(stopAtRepeatedLines('\n      }\n    }\n  }\n}\n'), undefined);
  assert.equal(stopAtRepeatedLines('\n  a();\n  a();\n  b();\n'), undefined);
});

test('stop rules: line end, line budget, scope end', () => {
  const line = stopContextFor('x = ', '\n', 'auto', 8);
  assert.equal(applyStopRules('1 + 2\nmore', line), 5);
  assert.equal(applyStopRules('1 + 2', line), undefined);
  const py = stopContextFor('def f(x):', '\n', 'auto', 8);
  const body = '\n    y = x + 1\n    return y\ndef g():\n';
  assert.equal(body.slice(0, applyStopRules(body, py)), '\n    y = x + 1\n    return y');
  const js = stopContextFor('  if (a) {', '\n', 'auto', 8);
  const jsBody = '\n    b();\n  }\n  c();\n';
  assert.equal(jsBody.slice(0, applyStopRules(jsBody, js)), '\n    b();\n  }');
  const budget = stopContextFor('{', '', 'multiline', 2);
  // maxLines counts the rest of the cursor line as the first line.
  assert.equal(applyStopRules('\n  a\n  b\n  c\n', budget), 4);
});

test('metrics', () => {
  assert.ok(exactMatch('abc  ', 'abc'));
  assert.equal(editSimilarity('abc', 'abd'), 1 - 1 / 3);
  assert.equal(editSimilarity('', ''), 1);
  assert.equal(percentile([5, 1, 3, 2, 4], 50), 3);
  assert.equal(percentile([5, 1, 3, 2, 4], 95), 5);
});

test('CLI arguments', () => {
  const a = parseArgs(['complete', '--file', 'f.ts', '--line', '3', '--json']);
  assert.equal(a.cmd, 'complete');
  assert.equal(a.flags.get('file'), 'f.ts');
  assert.equal(a.flags.get('json'), true);
  assert.throws(() => parseArgs(['complete', 'stray']), EngineError);
});
