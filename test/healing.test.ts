import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { truncatedTokenizerJson } from '../src/corpus/tokenizer-train';
import { TokenHealer } from '../src/engine/healing';
import { CodeTokenizer } from '../src/engine/tokenizer';

// A tokenizer with merges for runs of spaces and for " const" (Ġ is the byte-level space).
function tokenizer(): CodeTokenizer {
  const merges: [string, string][] = [['Ġ', 'Ġ'], ['ĠĠ', 'Ġ'], ['ĠĠ', 'ĠĠ'], ['c', 'o'], ['co', 'n'], ['con', 's'], ['cons', 't'], ['Ġ', 'const']];
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mod-tok-')), 'tokenizer.json');
  fs.writeFileSync(file, JSON.stringify(truncatedTokenizerJson(merges, merges.length)));
  return CodeTokenizer.load(file);
}

test('healing takes back a trailing indentation token and re-creates it with the best fitting tokens', async () => {
  const tok = tokenizer();
  const ids = await tok.encode('{\n    ');
  const four = ids[ids.length - 1];
  assert.equal(tok.decode([four]), '    ');
  const prompt = [...ids];
  const h = TokenHealer.fromPrompt(tok, prompt, 5)!;
  assert.deepEqual(prompt, ids.slice(0, -1));
  assert.equal(h.text, '    ');
  const id = (s: string) => {
    for (let i = 0; i < tok.vocabSize; i++) if (tok.decode([i]) === s) return i;
    throw new Error(s);
  };
  // The model prefers "   " then " const" (how "    const" was tokenized in training).
  const logits = new Float32Array(tok.vocabSize).fill(-10);
  logits[id('x')] = 9; // not allowed: does not match the pending spaces
  logits[id('   ')] = 5;
  logits[four] = 3;
  const first = h.pick(logits, tok.vocabSize);
  assert.equal(first, id('   '));
  h.accept(first);
  assert.ok(h.active);
  logits[id(' const')] = 6; // a token longer than the pending space is allowed too; the best one wins
  const second = h.pick(logits, tok.vocabSize);
  assert.equal(second, id(' const'));
  h.accept(second);
  assert.ok(!h.active);
  assert.equal(h.strip(tok.decode([first, second])), 'const');
});

test('no healing for special tokens or an empty prompt', () => {
  const tok = tokenizer();
  assert.equal(TokenHealer.fromPrompt(tok, [1, 2, 3], 5), undefined);
  assert.equal(TokenHealer.fromPrompt(tok, [], 5), undefined);
});
