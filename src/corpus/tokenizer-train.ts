// Trains the byte-level BPE tokenizer on a sample of the training split and picks the vocabulary
// size by measurement: for each candidate size it measures bytes per token on the validation split
// and estimates the model FLOPs needed to produce one byte of code, then keeps the cheapest.
//
//   node out/src/corpus/tokenizer-train.js [--corpus data/corpus] [--out data/tokenizer]

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from 'tokenizers';
import { byteLevelAlphabet } from '../engine/byte-level';
import { SPECIAL_LIST } from '../engine/special-tokens';
import { readDocs } from './jsonl';
import { arg } from '../tools/argv';

function skeleton(vocab: Record<string, number>, merges: [string, string][]): any {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_LIST.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
  };
}

function parseMerges(raw: unknown[]): [string, string][] {
  return raw.map((m) => {
    if (Array.isArray(m)) return [m[0], m[1]] as [string, string];
    const s = m as string;
    const i = s.indexOf(' ', 1);
    return [s.slice(0, i), s.slice(i + 1)];
  });
}

/**
 * The tokenizer made of the special tokens, all 256 byte symbols and the first `nMerges` merges.
 * BPE learns merges greedily in order, so this equals a tokenizer trained with that many merges.
 */
export function truncatedTokenizerJson(merges: [string, string][], nMerges: number): any {
  // No prototype: merges such as "toString" or "constructor" must not look present.
  const vocab: Record<string, number> = Object.create(null);
  let next = 0;
  for (const s of SPECIAL_LIST) vocab[s] = next++;
  for (const c of byteLevelAlphabet()) vocab[c] = next++;
  const kept: [string, string][] = [];
  for (const [a, b] of merges) {
    if (kept.length >= nMerges) break;
    if (!(a in vocab) || !(b in vocab) || a + b in vocab) continue;
    vocab[a + b] = next++;
    kept.push([a, b]);
  }
  return skeleton(vocab, kept);
}

async function sampleText(file: string, maxBytes: number, every: number): Promise<string> {
  const parts: string[] = [];
  let bytes = 0;
  let i = 0;
  for await (const d of readDocs(file)) {
    if (i++ % every !== 0) continue;
    parts.push(d.text);
    bytes += d.text.length;
    if (bytes >= maxBytes) break;
  }
  return parts.join('\n');
}

async function bytesPerToken(tok: Tokenizer, texts: string[]): Promise<number> {
  const encs = await tok.encodeBatch(texts);
  let tokens = 0;
  let bytes = 0;
  encs.forEach((e, i) => {
    tokens += e.getIds().length;
    bytes += Buffer.byteLength(texts[i]);
  });
  return bytes / tokens;
}

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '../../..');
  const corpus = path.resolve(arg('--corpus', path.join(root, 'data/corpus')));
  const out = path.resolve(arg('--out', path.join(root, 'data/tokenizer')));
  // Model shape the vocabulary is chosen for (training/model.py defaults: d256, 8 blocks, 4 routed at 12.5%):
  // width and forward FLOPs per token outside the embedding and head.
  const dModel = Number(arg('--d-model', '256'));
  const bodyFlopsPerToken = Number(arg('--body-flops', String(7.1e6)));
  fs.mkdirSync(out, { recursive: true });

  // Every 3rd training file, up to 24 MB: enough for stable merges, trains in well under a minute.
  const sample = path.join(out, 'sample.txt');
  fs.writeFileSync(sample, await sampleText(path.join(corpus, 'train.jsonl'), 24e6, 3));
  const base = Tokenizer.fromString(JSON.stringify(skeleton({}, [])));
  const t0 = Date.now();
  base.train([sample]);
  fs.unlinkSync(sample);
  base.save(path.join(out, 'trained-30k.json'));
  const full = JSON.parse(fs.readFileSync(path.join(out, 'trained-30k.json'), 'utf8'));
  const merges = parseMerges(full.model.merges);
  console.log(`trained ${merges.length} merges in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const valTexts: string[] = [];
  for await (const d of readDocs(path.join(corpus, 'val.jsonl'))) valTexts.push(d.text);
  const candidates = [4096, 8192, 12288, 16384];
  const rows: { vocab: number; bytesPerToken: number; flopsPerByte: number }[] = [];
  for (const v of candidates) {
    const json = truncatedTokenizerJson(merges, v - SPECIAL_LIST.length - 256);
    const tok = Tokenizer.fromString(JSON.stringify(json));
    const bpt = await bytesPerToken(tok, valTexts);
    // Per token the model spends the body plus the tied LM head (2 * d * V); per byte, divide by bytes/token.
    const flopsPerByte = (bodyFlopsPerToken + 2 * dModel * v) / bpt;
    rows.push({ vocab: v, bytesPerToken: +bpt.toFixed(3), flopsPerByte: Math.round(flopsPerByte) });
    console.log(`vocab ${v}: ${bpt.toFixed(3)} bytes/token, ${(flopsPerByte / 1e6).toFixed(2)} MFLOP/byte`);
  }
  const best = rows.reduce((a, b) => (b.flopsPerByte < a.flopsPerByte ? b : a));
  const json = truncatedTokenizerJson(merges, best.vocab - SPECIAL_LIST.length - 256);
  fs.writeFileSync(path.join(out, 'tokenizer.json'), JSON.stringify(json));
  fs.writeFileSync(path.join(out, 'vocab-choice.json'), JSON.stringify({ chosen: best.vocab, dModel, bodyFlopsPerToken, candidates: rows }, null, 1));
  // Exact round trip on the validation split: the engine relies on decode(encode(x)) === x.
  const tok = Tokenizer.fromString(JSON.stringify(json));
  let bad = 0;
  for (const t of valTexts.slice(0, 300)) {
    const ids = (await tok.encode(t)).getIds();
    if ((await tok.decode(ids, false)) !== t) bad++;
  }
  console.log(`chose vocab ${best.vocab}; round trip failures on 300 val files: ${bad}`);
  if (bad) process.exitCode = 1;
}

if (require.main === module) void main();
