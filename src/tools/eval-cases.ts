// Builds held-out completion cases for `mod-complete eval` from files that were never trained on:
// the corpus's held-out split, each file's hash checked against training/corpus-hashes.txt.
// Cursor kinds: line-start (after indentation), mid-line (inside the line), and multi-line
// (after a line that opens a block; the target is the block's next lines).
//
//   node out/src/tools/eval-cases.js [--per-kind 60] [--out test/fixtures/heldout-cases.jsonl]
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readDocs } from '../corpus/jsonl';
import { mulberry32 } from '../corpus/shards';
import { packageRoot } from '../engine/paths';
import { indentWidth } from '../engine/stop';
import { arg } from './argv';

/**
 * `prefix`/`suffix` are the text around the target that fits any model window; `before`/`after`
 * complete them to the whole file (the document as the user has it, minus the target).
 */
export interface EvalCase { id: string; path: string; lang: string; kind: 'line-start' | 'mid-line' | 'multi-line'; prefix: string; suffix: string; target: string; before: string; after: string }

const PREFIX_CHARS = 1600;
const SUFFIX_CHARS = 400;

/** Lines worth completing: code with some substance, not comments or blank lines. */
function isCodeLine(line: string): boolean {
  const t = line.trim();
  return t.length >= 8 && t.length <= 100 && !/^(#|\/\/|\*|\/\*)/.test(t) && /[A-Za-z]/.test(t);
}

export function casesFromText(text: string, rnd: () => number, id: string): EvalCase[] {
  const lines = text.split('\n');
  const offsets: number[] = [];
  let o = 0;
  for (const l of lines) {
    offsets.push(o);
    o += l.length + 1;
  }
  const out: EvalCase[] = [];
  const make = (kind: EvalCase['kind'], at: number, end: number): EvalCase => ({
    id: `${id}:${kind}:${at}`, path: '', lang: '', kind,
    prefix: text.slice(Math.max(0, at - PREFIX_CHARS), at), target: text.slice(at, end), suffix: text.slice(end, end + SUFFIX_CHARS),
    before: text.slice(0, Math.max(0, at - PREFIX_CHARS)), after: text.slice(end + SUFFIX_CHARS),
  });
  const candidates = lines.map((_, i) => i).filter((i) => i > 5 && isCodeLine(lines[i]));
  if (!candidates.length) return out;
  const pick = () => candidates[Math.floor(rnd() * candidates.length)];
  {
    const i = pick();
    const ind = lines[i].length - lines[i].trimStart().length;
    out.push(make('line-start', offsets[i] + ind, offsets[i] + lines[i].length));
  }
  {
    const i = pick();
    const ind = lines[i].length - lines[i].trimStart().length;
    const col = ind + 1 + Math.floor(rnd() * (lines[i].trimEnd().length - ind - 2));
    out.push(make('mid-line', offsets[i] + col, offsets[i] + lines[i].length));
  }
  const openers = candidates.filter((i) => /(\{|:)\s*$/.test(lines[i]) && i + 1 < lines.length && indentWidth(lines[i + 1]) > indentWidth(lines[i]));
  if (openers.length) {
    const i = openers[Math.floor(rnd() * openers.length)];
    const base = indentWidth(lines[i]);
    let j = i + 1;
    while (j < lines.length && j - i <= 4 && (lines[j].trim() === '' || indentWidth(lines[j]) > base)) j++;
    const at = offsets[i] + lines[i].length;
    out.push(make('multi-line', at, offsets[j - 1] + lines[j - 1].length));
  }
  return out;
}

async function main(): Promise<void> {
  const root = packageRoot();
  const perKind = Number(arg('--per-kind', '60'));
  const out = path.resolve(root, arg('--out', 'test/fixtures/heldout-cases.jsonl'));
  const trained = new Set(
    fs.readFileSync(path.join(root, 'training/corpus-hashes.txt'), 'utf8').split('\n').filter((l) => l.startsWith('train ')).map((l) => l.slice(6)),
  );
  const rnd = mulberry32(42);
  const byKey = new Map<string, EvalCase[]>();
  let checked = 0;
  for await (const doc of readDocs(path.resolve(root, arg('--heldout', 'data/corpus/heldout.jsonl')))) {
    const h = createHash('sha256').update(doc.text).digest('hex').slice(0, 16);
    if (trained.has(h)) throw new Error(`${doc.path} is in the training split`);
    checked++;
    for (const c of casesFromText(doc.text, rnd, doc.path)) {
      const key = `${doc.lang}/${c.kind}`;
      const list = byKey.get(key) ?? [];
      list.push({ ...c, path: doc.path, lang: doc.lang });
      byKey.set(key, list);
    }
  }
  const cases: EvalCase[] = [];
  for (const [key, list] of [...byKey].sort()) {
    // Spread picks over files rather than taking the first ones.
    const step = Math.max(1, Math.floor(list.length / perKind));
    const picked = list.filter((_, i) => i % step === 0).slice(0, perKind);
    cases.push(...picked);
    console.log(`${key}: ${picked.length} cases`);
  }
  fs.writeFileSync(out, cases.map((c) => JSON.stringify(c)).join('\n') + '\n');
  console.log(`${cases.length} cases from ${checked} held-out files (none in the training hashes) -> ${path.relative(root, out)}`);
}

if (require.main === module) void main();
