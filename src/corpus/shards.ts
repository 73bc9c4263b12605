// Turns the corpus into token shards for training: files are cut into chunks at line boundaries,
// a share (--fim-rate) of the training chunks become fill-in-the-middle samples (PSM or SPM, split at character
// positions so the model learns to continue mid-token prefixes), and every chunk starts with a
// file header and ends with <|endoftext|>. Validation chunks stay plain to measure bits per byte.
//
//   node out/src/corpus/shards.js [--corpus data/corpus] [--tokenizer data/tokenizer/tokenizer.json] [--out data/tokens]
//       [--fim-rate 0.5] [--fim-middles line-or-span|with-whole-lines]

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from 'tokenizers';
import { fimTokens, FimOrder, headerText } from '../engine/fim';
import { SPECIAL_IDS } from '../engine/special-tokens';
import { readDocs } from './jsonl';
import { arg } from '../tools/argv';

export const CHUNK_CHARS = 1600;

/** Deterministic PRNG so shards are reproducible. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cuts text into pieces of at most `max` characters, at line ends where possible. */
export function chunkText(text: string, max: number): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + max);
    if (end < text.length) {
      const nl = text.lastIndexOf('\n', end - 1);
      if (nl > start) end = nl + 1;
    }
    out.push(text.slice(start, end));
    start = end;
  }
  return out;
}

export interface FimSplit { prefix: string; middle: string; suffix: string; order: FimOrder }

/** Share of training chunks that become FIM samples. docs/reports/recipe.md measured 90% against
 * it at equal FLOPs (+2.9% validation bits/byte for +0.8 points of held-out edit similarity): kept. */
export const FIM_RATE = 0.5;

/**
 * How FIM middles are cut. 'line-or-span' (the default): half the time the rest of a line from a
 * random column (what inline completion asks for most), otherwise a random span that can cover
 * several lines. 'with-whole-lines': 40% rest of a line, 30% whole lines from a line start (a
 * multi-line completion on an empty or indented line), 30% spans; measured in
 * docs/reports/recipe.md (fim50-lines: +1.1% bits/byte, no gain) and not used for training.
 */
export type FimMiddles = 'line-or-span' | 'with-whole-lines';

export function fimSplit(text: string, rnd: () => number, middles: FimMiddles = 'line-or-span'): FimSplit {
  if (middles === 'with-whole-lines') return fimSplitWithLines(text, rnd);
  const start = Math.floor(rnd() * text.length);
  let end: number;
  if (rnd() < 0.5) {
    const nl = text.indexOf('\n', start);
    end = nl < 0 ? text.length : nl;
  } else {
    end = start + Math.floor(rnd() * Math.min(text.length - start, text.length / 2 + 1));
  }
  return { prefix: text.slice(0, start), middle: text.slice(start, end), suffix: text.slice(end), order: rnd() < 0.5 ? 'psm' : 'spm' };
}

function fimSplitWithLines(text: string, rnd: () => number): FimSplit {
  const kind = rnd();
  let start: number;
  let end: number;
  if (kind < 0.4) {
    start = Math.floor(rnd() * text.length);
    const nl = text.indexOf('\n', start);
    end = nl < 0 ? text.length : nl;
  } else if (kind < 0.7) {
    const lineStarts = [0];
    for (let i = text.indexOf('\n'); i >= 0 && i + 1 < text.length; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
    const first = Math.floor(rnd() * lineStarts.length);
    // Half the time the cursor sits after the line's indentation, where a user starts typing.
    start = lineStarts[first];
    if (rnd() < 0.5) while (start < text.length && (text[start] === ' ' || text[start] === '\t')) start++;
    const last = Math.min(lineStarts.length - 1, first + Math.floor(rnd() * 8));
    const nl = text.indexOf('\n', lineStarts[last]);
    end = Math.max(start, nl < 0 ? text.length : nl + 1);
  } else {
    start = Math.floor(rnd() * text.length);
    end = start + Math.floor(rnd() * Math.min(text.length - start, text.length / 2 + 1));
  }
  return { prefix: text.slice(0, start), middle: text.slice(start, end), suffix: text.slice(end), order: rnd() < 0.5 ? 'psm' : 'spm' };
}

interface ShardStats { tokens: number; bytes: number; chunks: number; fim: number }

async function writeShard(tok: Tokenizer, file: string, out: string, fimRate: number, seed: number, middles: FimMiddles = 'line-or-span'): Promise<ShardStats> {
  const rnd = mulberry32(seed);
  const fd = fs.openSync(out, 'w');
  const stats: ShardStats = { tokens: 0, bytes: 0, chunks: 0, fim: 0 };
  let pending: { texts: string[]; build: (ids: number[][]) => number[] }[] = [];
  let pendingChars = 0;
  const flush = async () => {
    const texts = pending.flatMap((p) => p.texts);
    const encs = await tok.encodeBatch(texts);
    let i = 0;
    const all: number[] = [];
    for (const p of pending) {
      const ids = encs.slice(i, i + p.texts.length).map((e) => e.getIds());
      i += p.texts.length;
      all.push(...p.build(ids));
    }
    fs.writeSync(fd, Buffer.from(Uint16Array.from(all).buffer));
    stats.tokens += all.length;
    pending = [];
    pendingChars = 0;
  };
  for await (const doc of readDocs(file)) {
    const header = headerText(doc.path);
    for (const chunk of chunkText(doc.text, CHUNK_CHARS)) {
      stats.chunks++;
      stats.bytes += Buffer.byteLength(header) + Buffer.byteLength(chunk);
      if (rnd() < fimRate) {
        stats.fim++;
        const s = fimSplit(chunk, rnd, middles);
        pending.push({
          texts: [header, s.prefix, s.suffix, s.middle],
          build: ([h, prefix, suffix, middle]) => fimTokens(s.order, { header: [SPECIAL_IDS.fileSep, ...h], prefix, suffix, middle }),
        });
      } else {
        pending.push({ texts: [header, chunk], build: ([h, body]) => [SPECIAL_IDS.fileSep, ...h, ...body, SPECIAL_IDS.endOfText] });
      }
      pendingChars += chunk.length;
      if (pendingChars > 4e6) await flush();
    }
  }
  await flush();
  fs.closeSync(fd);
  return stats;
}

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '../../..');
  const corpus = path.resolve(arg('--corpus', path.join(root, 'data/corpus')));
  const tokPath = path.resolve(arg('--tokenizer', path.join(root, 'data/tokenizer/tokenizer.json')));
  const out = path.resolve(arg('--out', path.join(root, 'data/tokens')));
  fs.mkdirSync(out, { recursive: true });
  const tok = Tokenizer.fromFile(tokPath);
  const vocabSize = tok.getVocabSize(true);
  if (vocabSize > 65535) throw new Error('token ids must fit uint16');
  const fimRate = Number(arg('--fim-rate', String(FIM_RATE)));
  if (!(fimRate >= 0 && fimRate <= 1)) throw new Error(`--fim-rate must be within 0..1, got ${arg('--fim-rate', '')}`);
  const middles = arg('--fim-middles', 'line-or-span') as FimMiddles;
  if (middles !== 'line-or-span' && middles !== 'with-whole-lines') throw new Error(`--fim-middles must be line-or-span or with-whole-lines, got ${middles}`);
  const train = await writeShard(tok, path.join(corpus, 'train.jsonl'), path.join(out, 'train.bin'), fimRate, 1, middles);
  const val = await writeShard(tok, path.join(corpus, 'val.jsonl'), path.join(out, 'val.bin'), 0, 2);
  const meta = { vocabSize, dtype: 'uint16', fimRate, fimMiddles: middles, train, val, valBytesPerToken: val.bytes / val.tokens };
  fs.writeFileSync(path.join(out, 'meta.json'), JSON.stringify(meta, null, 1));
  console.log(JSON.stringify(meta));
}

if (require.main === module) void main();
