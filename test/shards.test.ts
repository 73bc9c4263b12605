// FIM middles with whole lines: the rest of a line, whole lines, free spans (the recipe report's variant).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fimSplit, mulberry32 } from '../src/corpus/shards';

const code = Array.from({ length: 30 }, (_, i) => `${'  '.repeat(i % 3)}const v${i} = compute(${i}, "x");`).join('\n') + '\n';

test('FIM middles: rest of a line, whole lines from a line start, and spans, in the advertised shares', () => {
  const rnd = mulberry32(3);
  let restOfLine = 0;
  let wholeLines = 0;
  const n = 2000;
  for (let i = 0; i < n; i++) {
    const s = fimSplit(code, rnd, 'with-whole-lines');
    assert.equal(s.prefix + s.middle + s.suffix, code);
    const atLineStart = s.prefix === '' || s.prefix.endsWith('\n') || /\n[ \t]+$/.test(s.prefix) || /^[ \t]+$/.test(s.prefix);
    if (s.middle.length > 0 && atLineStart && s.middle.endsWith('\n')) wholeLines++;
    else if (!s.middle.includes('\n') && (s.suffix === '' || s.suffix.startsWith('\n'))) restOfLine++;
  }
  // 40% rest of line and 30% whole lines by construction; spans land in either class by chance.
  assert.ok(wholeLines / n > 0.28 && wholeLines / n < 0.4, `whole lines ${wholeLines / n}`);
  assert.ok(restOfLine / n > 0.38, `rest of line ${restOfLine / n}`);
});

test('whole-line middles end at a line end and span at most 8 lines', () => {
  const rnd = mulberry32(11);
  let seen = 0;
  for (let i = 0; i < 3000; i++) {
    const s = fimSplit(code, rnd, 'with-whole-lines');
    const atLineStart = s.prefix === '' || /\n[ \t]*$/.test(s.prefix);
    if (!atLineStart || !s.middle.endsWith('\n')) continue;
    seen++;
    assert.ok(s.middle.split('\n').length - 1 <= 8, JSON.stringify(s.middle));
  }
  assert.ok(seen > 500);
});
