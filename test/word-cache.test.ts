// Word completion from the document's identifiers: the lookup, the spelling rule and the mixing
// on a small fixture vocabulary; end to end on the shipped model in test/cache-e2e.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CodeTokenizer } from '../src/engine/tokenizer';
import { ChunkWords, continues, partialWord, WordMixer } from '../src/engine/word-cache';
import { softmax } from './helpers';

test('identifiers by prefix, with their counts (binary search over a sorted chunk)', () => {
  const w = new ChunkWords('parser.add_argument("x")\nparser.add_argument("y")\nadd_all = add_argument\nadd = 1');
  const into = new Map<string, number>();
  w.collect('add_a', into);
  assert.deepEqual([...into].sort(), [['add_all', 1], ['add_argument', 3]]);
  w.collect('add_arg', into, 0.5);
  assert.equal(into.get('add_argument'), 4.5);
  const none = new Map<string, number>();
  w.collect('zz', none);
  assert.equal(none.size, 0);
});

test('the word the cursor is in: identifiers only, not numbers', () => {
  assert.deepEqual(partialWord('    parser.add_argum'), { word: 'add_argum', start: 11 });
  assert.deepEqual(partialWord('x = $el'), { word: '$el', start: 4 });
  assert.equal(partialWord('x = 0x1f'), undefined);
  assert.equal(partialWord('foo('), undefined);
});

test('a token continues a word while inside it, or ends it exactly', () => {
  // The word so far is "add_argu"; what add_argument still needs is "ment".
  assert.ok(continues('me', 'ment'));
  assert.ok(continues('ment(', 'ment'));
  assert.ok(continues('ment', 'ment'));
  assert.ok(!continues('mpt(', 'ment'));
  assert.ok(!continues('ments', 'ment'));
  assert.ok(!continues('m(', 'ment'));
  // A word already complete continues only with a non-word character.
  assert.ok(continues('.get', '') && !continues('s', ''));
});

/** A fixture tokenizer: ids 0..4 special, then these texts. */
const TEXTS = ['<0>', '<1>', '<2>', '<3>', '<4>', 'pt(', 'en', 'um', 'ent(', '(', ' x', 'ents'];
const tok = { tokenBytes: (id: number) => new TextEncoder().encode(id < 5 ? '' : TEXTS[id]) } as unknown as CodeTokenizer;
const V = TEXTS.length;
const id = (t: string) => TEXTS.indexOf(t);

test('mixing moves the mass onto the tokens that spell a known identifier, by the model\'s own split', () => {
  // The model prefers "pt(" (add_argumpt); the file only knows add_argument.
  const logits = new Float32Array(V).fill(-5);
  logits[id('pt(')] = 2;
  logits[id('en')] = 0;
  logits[id('ent(')] = -1;
  const text = 'parser.add_argum';
  const m = new WordMixer(tok, V, 5, new Map([['add_argument', 3]]), 7, { max: 0.6, halfCount: 1, workspace: 0.5, top: 8 });
  const before = softmax(logits);
  assert.ok(m.mix(logits, V, text));
  const after = softmax(logits);
  // λ = 0.6 · 3/4 = 0.45: "pt(" keeps (1 - λ) of its share; the two spellings split λ in the model's ratio.
  const l = 0.45;
  assert.ok(Math.abs(after[id('pt(')] - (1 - l) * before[id('pt(')]) < 1e-6);
  const z = before[id('en')] + before[id('ent(')];
  assert.ok(Math.abs(after[id('ent(')] - before[id('ent(')] * ((1 - l) + l / z)) < 1e-6);
  assert.ok(after[id('en')] + after[id('ent(')] > after[id('pt(')], 'the known identifier wins over the invented one');
  // Once decoding has left the word, nothing changes any more.
  const later = new Float32Array(V).fill(0);
  assert.equal(m.mix(later, V, text + 'ent('), false);
  assert.deepEqual([...later], new Array(V).fill(0));
});

test('while a healed token re-creates text before the word, tokens that stop short of it keep their weight', () => {
  // The healed token began one character before the word: " x..." must come first.
  const m = new WordMixer(tok, V, 5, new Map([['xents', 1]]), 1, { max: 0.5, halfCount: 1, workspace: 0.5, top: 8 });
  const logits = new Float32Array(V).fill(0);
  m.mix(logits, V, '');
  // " x" reaches one character into the word ("x"), which begins "xents": it spells on.
  assert.ok(logits[id(' x')] > 0);
  // "ents" would put the word at "nts": it does not spell on and is scaled down.
  assert.ok(logits[id('ents')] < 0);
});
