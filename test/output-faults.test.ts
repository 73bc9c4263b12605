// Golden cases for the output faults of issue 12 (item 8): each reproduces one fault as the
// user met it and pins the fixed output.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkText, splitAtCursor } from '../src/engine/document';
import { generationLead } from '../src/engine/indent';
import { postProcess, ruleContext } from '../src/engine/postprocess';
import { applyStopRules, stopContextFor } from '../src/engine/stop';

/** A document with the cursor marked by █, split around it. */
function at(doc: string): { prefix: string; suffix: string } {
  const i = doc.indexOf('█');
  return { prefix: doc.slice(0, i), suffix: doc.slice(i + 1) };
}

test('fault: an accepted suggestion in a tab-indented file added spaces', () => {
  const doc = 'function f(a) {\n\tif (a) {█\n\t}\n\treturn a;\n}\n';
  // The model writes its usual 4-space levels; the file uses tabs.
  assert.equal(postProcess('\n        run(a);\n        log(a);', at(doc)), '\n\t\trun(a);\n\t\tlog(a);');
  // And the file's width: a 2-space file gets 2-space levels, not the model's 4.
  const two = 'function f(a) {\n  if (a) {█\n  }\n  return a;\n}\n';
  assert.equal(postProcess('\n      run(a);\n      if (b) {\n          log(b);\n      }', at(two)), '\n    run(a);\n    if (b) {\n      log(b);\n    }');
  // Already in the file's style: unchanged.
  assert.equal(postProcess('\n\t\trun(a);', at(doc)), '\n\t\trun(a);');
});

test('fault: Generate Code after a line that opens a block wrote the comment at column 0', () => {
  const style = ruleContext(at('class A:\n    def f(self):█\n')).indent;
  // Cursor at the end of `def f(self):`: a new line one level deeper, comment and code there.
  assert.equal(generationLead('class A:\n    def f(self):', style, '# sum a list'), '\n        # sum a list\n        ');
  // Cursor on the blank line under it (column 0): padded to the block's indentation.
  assert.equal(generationLead('class A:\n    def f(self):\n', style, '# sum a list'), '        # sum a list\n        ');
  // After a plain statement the indentation stays; at top level it stays at column 0.
  assert.equal(generationLead('def f():\n    x = 1', style, '# more'), '\n    # more\n    ');
  assert.equal(generationLead('x = 1\n', style, '# more'), '# more\n');
  // A tab-indented file gets a tab; a selected comment gets no second comment.
  assert.equal(generationLead('\tif (a) {', { tabs: true, size: 4 }), '\n\t\t');
});

test('fault: a column inside an emoji yielded U+FFFD (positions snap to code points)', () => {
  const line = 'label = "ok 😀 done"\n';
  const inside = line.indexOf('😀') + 2; // 1-based column of the emoji's second UTF-16 unit
  const { prefix, suffix } = splitAtCursor(line, 1, inside);
  assert.equal(prefix, 'label = "ok ');
  assert.equal(suffix, '😀 done"\n');
  assert.ok(![...prefix, ...suffix].some((ch) => ch.length === 1 && /[\uD800-\uDFFF]/.test(ch)), 'no lone surrogate on either side');
  // On a boundary nothing moves.
  assert.equal(splitAtCursor(line, 1, inside + 1).suffix, ' done"\n');
});

test('fault: a completion ending in \\r\\n left a lone \\r; CRLF files get CRLF', () => {
  // The engine's line stop cut at the \n of a \r\n.
  const text = 'total = a + b\r\nprint(total)';
  const cut = applyStopRules(text, stopContextFor('x = ', '', 'line', 8));
  assert.equal(text.slice(0, cut), 'total = a + b');
  // Post-processing: an LF file gets LF only, a CRLF file CRLF only.
  assert.equal(postProcess('a + b\r\n', at('x = █\n')), 'a + b');
  assert.equal(postProcess('\r\n    return a\r\n', at('def f(a):█\n')), '\n    return a');
  assert.equal(postProcess('\n    y = a\n    return y\r\n', at('def f(a):█\r\n\r\nprint(1)\r\n')), '\r\n    y = a\r\n    return y');
});

test('fault: a NUL byte after the first 8 KB passed the binary check', () => {
  const text = 'const a = 1;\n'.repeat(2000) + '\u0000' + 'const b = 2;\n';
  assert.ok(text.indexOf('\u0000') > 8192);
  assert.throws(() => checkText(text, 'late.bin'), /binary/);
});
