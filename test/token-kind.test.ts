import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tokenKinds, type TokenKind } from '../src/engine/token-kind';

const LETTER: Record<string, TokenKind> = { i: 'identifier', k: 'keyword', o: 'operator', w: 'whitespace', s: 'string', n: 'number', c: 'comment' };

/** Tokens as a list, their expected kinds one letter each (i k o w s n c). */
function check(path: string, tokens: string[], want: string, before = '') {
  assert.deepEqual(tokenKinds(tokens, path, before), [...want].map((c) => LETTER[c]), `${path}: ${JSON.stringify(tokens)}`);
}

test('Python: keywords, identifiers, punctuation, indentation, numbers, comments', () => {
  check('a.py', ['def', ' add', '(a', ',', ' b', '):', '\n    ', 'return', ' a', ' +', ' 0x1F', '  ', '# sum'], 'kiooiowkionwc');
  check('a.py', ['n', ' =', ' 1_000', '.5', 'e-3', ' +', ' 2j'], 'ionnnon');
});

test('Python strings: prefixes, escapes, triple quotes across lines', () => {
  check('a.py', ['x', ' =', ' f', '"{y}', '"', ';', ' rb', "'\\", "''", '\n'], 'iosssosssw');
  check('a.py', ['s', ' =', ' """', 'doc\n', 'still doc', '"""', '\nx'], 'iossssi');
});

test('JS/TS: line and block comments, template literals, type keywords, division', () => {
  check('a.ts', ['const', ' x', ':', ' string', ' =', ' `a ${', 'b}`', ';', ' // note'], 'kiokossoc');
  check('src/x.js', ['/* a', ' comment */', 'foo', '(', "'it\\'s'", ')'], 'ccioso');
  check('a.ts', ['a', ' /', ' b'], 'ioi');
});

test('a token takes the kind of most of its characters; a part of a character takes the next one', () => {
  check('a.py', ['(self', '):\n', '  '], 'iow');
  check('a.py', ['', 'é', 'x'], 'iii');
});

test('the text before the tokens sets where they start: inside a comment, a string or code', () => {
  check('a.ts', ['still', ' comment', ' */', ' x'], 'ccci', 'let a = 1;\n/* open\n');
  check('a.py', ['inside', ' string', '"""', ' x'], 'sssi', 'x = """\n');
  check('notes.txt', ['hello', ' "world"'], 'is');
});
