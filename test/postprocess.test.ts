// Golden cases for post-processing: a document with the cursor marked by █, the model's raw
// completion (and the text just accepted there, if any), and what the user should see.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { postProcess } from '../src/engine/postprocess';

const CASES: { name: string; doc: string; raw: string; want: string; accepted?: string }[] = [
  { name: 'closing paren already there', doc: 'print(█)\n', raw: 'total)', want: 'total' },
  { name: 'unbalanced closer cut', doc: 'foo(a, █)\n', raw: 'b)) + 1', want: 'b' },
  { name: 'balanced inner call kept', doc: 'foo(█)\n', raw: 'bar(1), 2)', want: 'bar(1), 2' },
  { name: 'closer in string is not a closer', doc: 'log(█)\n', raw: '")")', want: '")"' },
  { name: 'rest of line repeated', doc: 'const x = █;\n', raw: 'compute(a);', want: 'compute(a)' },
  { name: 'quote and paren repeated', doc: 'open("█")\n', raw: 'data.txt")', want: 'data.txt' },
  { name: 'end of line: closer closes prefix', doc: 'foo(a█\n', raw: ', b)', want: ', b)' },
  { name: 'following closing brace not duplicated', doc: 'if (x) {█\n}\n', raw: '\n  run();\n}', want: '\n  run();' },
  { name: 'following lines kept when different', doc: 'def f():█\n\nprint(1)\n', raw: '\n    return 1', want: '\n    return 1' },
  { name: 'trailing whitespace dropped', doc: 'x = █\n', raw: '1   \n\n', want: '1' },
  { name: 'empty dropped', doc: 'x = █\n', raw: '   ', want: '' },
  { name: 'stray punctuation dropped', doc: 'x = 1█\n', raw: ';', want: '' },
  { name: 'short word kept', doc: 'x = █\n', raw: 'y', want: 'y' },
  // Brackets, given the text after the cursor on its line and below.
  { name: 'call left open is closed', doc: 'const m = █\n', raw: 'matcher.get(requires', want: 'matcher.get(requires)' },
  { name: 'inner call closed before the auto-closed paren', doc: 'foo(█)\n', raw: 'bar(1', want: 'bar(1)' },
  { name: 'several open brackets closed innermost first', doc: 'x = █\n', raw: 'f(a, [1, 2', want: 'f(a, [1, 2])' },
  { name: 'block opened at line end stays open', doc: 'x = 1\n█\n', raw: 'if (x) {', want: 'if (x) {' },
  { name: 'open call before a trailing opener is closed', doc: 'x = █\n', raw: 'foo(a, {', want: 'foo(a, {})' },
  { name: 'closer on the next line not repeated after more code', doc: 'if (x) {█\n}\n', raw: '\n  run();\n}\nfoo();', want: '\n  run();' },
  { name: 'closer of a call opened lines above kept', doc: 'foo(\n  a,\n  b█\n\nbar();\n', raw: ', c)', want: ', c)' },
  { name: 'closer the next line already holds cut', doc: 'foo(\n  a,\n  b█\n)\n', raw: ', c)', want: ', c' },
  { name: 'block cut by the line budget is closed', doc: 'function f() {█\n}\n', raw: '\n  for (const x of xs) {\n    run(x);', want: '\n  for (const x of xs) {\n    run(x);\n  }' },
  { name: 'open call on the last line closed there, block below', doc: 'function f() {█\n}\n', raw: '\n  if (x) {\n    run(a, b', want: '\n  if (x) {\n    run(a, b)\n  }' },
  { name: 'callback block and call close together', doc: 'def f():█\n', raw: '\n    on(x, lambda: {\n        a: 1', want: '\n    on(x, lambda: {\n        a: 1\n    })' },
  { name: 'bracket in a string is text', doc: 'log("█")\n', raw: 'a (b', want: 'a (b' },
  { name: 'bracket in a comment is text', doc: 'x = 1  # note█\n', raw: ' (see above', want: ' (see above' },
  // No re-offer of what was just accepted at this position.
  { name: 'end of the accepted text re-offered', doc: 'm = matcher.get(requires█\n', accepted: 'matcher.get(requires', raw: '.get(requires', want: '' },
  { name: 'accepted text re-offered, closed', doc: 'm = matcher.get(requires)█\n', accepted: 'matcher.get(requires)', raw: 'matcher.get(requires)', want: '' },
  { name: 'continuation of the accepted text kept', doc: 'm = matcher.get(requires█\n', accepted: 'matcher.get(requires', raw: ', options)', want: ', options)' },
];

for (const c of CASES) {
  test(`post-process: ${c.name}`, () => {
    const i = c.doc.indexOf('█');
    assert.equal(postProcess(c.raw, { prefix: c.doc.slice(0, i), suffix: c.doc.slice(i + 1), accepted: c.accepted }), c.want);
  });
}
