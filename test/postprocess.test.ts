// Golden cases for post-processing: a document with the cursor marked by █, the model's raw
// completion, and what the user should see.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { postProcess } from '../src/engine/postprocess';

const CASES: { name: string; doc: string; raw: string; want: string }[] = [
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
];

for (const c of CASES) {
  test(`post-process: ${c.name}`, () => {
    const i = c.doc.indexOf('█');
    assert.equal(postProcess(c.raw, { prefix: c.doc.slice(0, i), suffix: c.doc.slice(i + 1) }), c.want);
  });
}
