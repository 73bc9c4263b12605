// `npm run report:routing`: what the shipped model's routed blocks spend compute on, on validation
// code, by token kind (src/engine/token-kind.ts, the classifier the compute panel uses), by the
// token's place in its line, by block and, at decode time, by distance to the cursor; with the
// predictor's agreement with top-k. Writes docs/reports/routing.json and routing.md.
//
// Two sources on the same windows (training/routing.py picks them: seq_len tokens from evenly spaced
// validation chunks): which tokens a block runs for at inference comes from the product's engine
// (4-bit graph, balanced budget, prefill of the window); top-k and the predictor's call on the
// training path come from the same weights in PyTorch (the graph computes no top-k). Decode time:
// one completion per window through CompletionEngine.complete, cursor on a random line of the
// window's first file, and its compute grid (generated tokens x routed blocks).
//
//   node out/src/report/routing.js [--topk out/routing/topk.json] [--out docs/reports]
import '../engine/telemetry'; // first: turns onnxruntime telemetry off before it loads
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMPUTE_BUDGETS } from '../engine/budgets';
import { CompletionEngine } from '../engine/engine';
import { defaultModelDir, packageRoot } from '../engine/paths';
import { SPECIAL_IDS } from '../engine/special-tokens';
import { TOKEN_KINDS, tokenKinds } from '../engine/token-kind';
import { TokenStreamDecoder, type CodeTokenizer } from '../engine/tokenizer';
import { arg } from '../tools/argv';

interface TopkWindow { start: number; ids: number[]; topk: Record<string, string>; predictor: Record<string, string> }
interface TopkFile { model: string; sha256: string; data: string; seqLen: number; capacity: number; routedBlocks: number[]; seconds: number; windows: TopkWindow[] }

/** Counts of one group of tokens (a kind, a place in the line, a distance) in one routed block. */
interface Cell {
  tokens: number;
  /** The block ran for the token at inference. */
  ran: number;
  /** Top-k (training routing) selected it; with the predictor's call: agree, both (true positives), pred. */
  topk?: number;
  pred?: number;
  agree?: number;
  both?: number;
}

/** group -> block (or 'all') -> counts. */
type Table = Record<string, Record<string, Cell>>;

function count(table: Table, group: string, block: number, ran: boolean, topk?: boolean, pred?: boolean): void {
  const row = (table[group] ??= {});
  for (const key of [String(block), 'all']) {
    const c = (row[key] ??= { tokens: 0, ran: 0, ...(topk === undefined ? {} : { topk: 0, pred: 0, agree: 0, both: 0 }) });
    c.tokens++;
    c.ran += +ran;
    if (topk !== undefined) {
      c.topk! += +topk;
      c.pred! += +pred!;
      c.agree! += +(topk === pred);
      c.both! += +(topk && pred!);
    }
  }
}

/** A token's place in its line: a token holding a line break is the break, the rest count from it. */
function linePlaces(texts: string[]): string[] {
  let n = 0;
  return texts.map((t) => {
    if (t.includes('\n')) {
      n = 0;
      return 'line break';
    }
    return bucket(++n, [1, 2, 3, 4, 8, 16]);
  });
}

/** "1", "2", ..., "5-8", "17+" for the bounds given. */
function bucket(n: number, bounds: number[]): string {
  let lo = 1;
  for (const b of bounds) {
    if (n <= b) return lo === b ? String(b) : `${lo}-${b}`;
    lo = b + 1;
  }
  return `${lo}+`;
}

interface Segment { path: string; from: number; texts: string[] }

/** The files in a window: each opens with <|file_sep|> and a header line naming it; body tokens only. */
function segments(tok: CodeTokenizer, ids: number[]): Segment[] {
  const out: Segment[] = [];
  for (let i = 0; i < ids.length;) {
    if (ids[i] !== SPECIAL_IDS.fileSep) {
      i++;
      continue;
    }
    let header = '';
    for (i++; i < ids.length && !header.includes('\n'); i++) header += tok.decode([ids[i]]);
    const from = i;
    while (i < ids.length && ids[i] > SPECIAL_IDS.fileSep) i++;
    const dec = new TokenStreamDecoder(tok);
    out.push({ path: header.trim(), from, texts: ids.slice(from, i).map((id) => dec.push(id)) });
  }
  return out;
}

/** Deterministic choices (mulberry32), so the report is the same run to run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A cursor on a random non-empty line (after the first three) of the text, at a random column past its indentation. */
function cursorIn(text: string, rnd: () => number): number | undefined {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  const lines = starts.slice(3, -1).filter((s) => text.slice(s, text.indexOf('\n', s)).trim());
  if (!lines.length) return undefined;
  const s = lines[Math.floor(rnd() * lines.length)];
  const line = text.slice(s, text.indexOf('\n', s));
  const indent = line.length - line.trimStart().length;
  return s + indent + Math.floor(rnd() * (line.length - indent + 1));
}

const DECODE_TOKENS = 48;

interface RoutingReport {
  model: string;
  sha256: string;
  threshold: number;
  /** seconds: the engine's part; topkSeconds: training/routing.py's. */
  sample: { windows: number; seqLen: number; bodyTokens: number; decodeCases: number; decodeTokens: number; seconds: number; topkSeconds: number };
  routedBlocks: number[];
  capacity: number;
  byKind: Table;
  byPlace: Table;
  byDistance: Table;
  decodeByKind: Table;
}

async function analyse(topkPath: string): Promise<RoutingReport> {
  const t0 = performance.now();
  const src: TopkFile = JSON.parse(fs.readFileSync(topkPath, 'utf8'));
  const engine = await CompletionEngine.load({ modelDir: defaultModelDir(), precision: 'q4', provider: 'cpu', threads: 1 });
  const manifest = engine.pkg.manifest;
  if (manifest.files.float.sha256 !== src.sha256) throw new Error(`${topkPath} is of another model than ${manifest.name}: rerun training/routing.py`);
  const threshold = COMPUTE_BUDGETS.balanced;
  const blocks = src.routedBlocks;
  const r: RoutingReport = {
    model: manifest.name, sha256: src.sha256, threshold, routedBlocks: blocks, capacity: src.capacity,
    sample: { windows: src.windows.length, seqLen: src.seqLen, bodyTokens: 0, decodeCases: 0, decodeTokens: 0, seconds: 0, topkSeconds: src.seconds },
    byKind: {}, byPlace: {}, byDistance: {}, decodeByKind: {},
  };
  for (const [w, win] of src.windows.entries()) {
    engine.reset();
    const { steps } = await engine.model.forward(win.ids, threshold);
    const files = segments(engine.tokenizer, win.ids);
    for (const seg of files) {
      const kinds = tokenKinds(seg.texts, seg.path);
      const places = linePlaces(seg.texts);
      seg.texts.forEach((_, j) => {
        const i = seg.from + j;
        r.sample.bodyTokens++;
        for (const b of blocks) {
          const [topk, pred] = [win.topk[b][i] === '1', win.predictor[b][i] === '1'];
          count(r.byKind, kinds[j], b, steps[i][b].ran, topk, pred);
          count(r.byPlace, places[j], b, steps[i][b].ran, topk, pred);
        }
      });
    }
    engine.reset();
    const doc = files[0].texts.join('');
    const at = cursorIn(doc, random(w + 1));
    if (at === undefined) continue;
    const c = await engine.complete({ path: files[0].path, prefix: doc.slice(0, at), suffix: doc.slice(at), mode: 'multiline', maxLines: 4, maxTokens: DECODE_TOKENS, threshold });
    r.sample.decodeCases++;
    c.compute.grid.ran.forEach((row, t) => {
      r.sample.decodeTokens++;
      row.forEach((ran, j) => {
        count(r.byDistance, bucket(t + 1, [1, 2, 4, 8, 16, 32]), c.compute.grid.blocks[j], ran === 1);
        count(r.decodeByKind, c.compute.grid.kinds[t], c.compute.grid.blocks[j], ran === 1);
      });
    });
  }
  r.sample.seconds = (performance.now() - t0) / 1000;
  return r;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const rate = (c: Cell | undefined) => (c && c.tokens ? c.ran / c.tokens : 0);

/** Groups in a fixed order: kinds as TOKEN_KINDS, buckets as counted (1, 2, ... then the open one). */
function order(table: Table, fixed?: readonly string[]): string[] {
  const keys = Object.keys(table);
  if (fixed) return fixed.filter((k) => k in table);
  const lead = (k: string) => (k === 'line break' ? -1 : parseInt(k, 10));
  return keys.sort((a, b) => lead(a) - lead(b));
}

/** Ran-at-inference rates per block and overall, with the lift over all tokens' rate. */
function ranTable(table: Table, blocks: number[], label: string, fixed?: readonly string[], training = true): string {
  const total = { tokens: 0, ran: 0 };
  for (const row of Object.values(table)) {
    total.tokens += row.all.tokens;
    total.ran += row.all.ran;
  }
  const overall = total.ran / total.tokens;
  const head = `| ${label} | tokens | share | ${blocks.map((b) => `block ${b} ran`).join(' | ')} | all routed blocks (vs average) |` +
    (training ? ' top-k (training) | predictor agrees with top-k | predictor recall of top-k |' : '');
  const sep = `|---|---|---|${blocks.map(() => '---|').join('')}---|${training ? '---|---|---|' : ''}`;
  const rows = order(table, fixed).map((g) => {
    const row = table[g];
    const all = row.all;
    const n = all.tokens / blocks.length;
    return `| ${g} | ${n} | ${pct(all.tokens / total.tokens)} | ${blocks.map((b) => pct(rate(row[b]))).join(' | ')} | ${pct(rate(all))} (${(rate(all) / overall).toFixed(2)}x) |` +
      (training ? ` ${pct(all.topk! / all.tokens)} | ${pct(all.agree! / all.tokens)} | ${all.topk ? pct(all.both! / all.topk) : '–'} |` : '');
  });
  return [head, sep, ...rows].join('\n');
}

/** One line per routed block: ran, top-k and agreement over every body token. */
function blockTable(r: RoutingReport): string {
  const rows = r.routedBlocks.map((b) => {
    const c: Cell = { tokens: 0, ran: 0, topk: 0, pred: 0, agree: 0, both: 0 };
    for (const row of Object.values(r.byKind)) for (const k of Object.keys(c) as (keyof Cell)[]) c[k]! += row[b][k]!;
    const lifts = order(r.byKind, TOKEN_KINDS).map((k) => [k, rate(r.byKind[k][b]) / rate(c)] as const).sort((x, y) => y[1] - x[1]);
    return `| ${b} | ${pct(rate(c))} | ${pct(c.topk! / c.tokens)} | ${pct(c.agree! / c.tokens)} | ${pct(c.both! / c.pred!)} | ${pct(c.both! / c.topk!)} | ` +
      `${lifts.slice(0, 2).map(([k, l]) => `${k} ${l.toFixed(2)}x`).join(', ')} | ${lifts.slice(-2).reverse().map(([k, l]) => `${k} ${l.toFixed(2)}x`).join(', ')} |`;
  });
  return ['| block | ran at inference | top-k (training) | predictor agrees with top-k | precision | recall | runs most for (vs block average) | runs least for |',
    '|---|---|---|---|---|---|---|---|', ...rows].join('\n');
}

/** The reading: sentences computed from the tables, so that a rerun on a new model cannot leave them stale. */
function reading(r: RoutingReport): string {
  const all = (t: Table, g: string) => rate(t[g]?.all);
  const kinds = order(r.byKind, TOKEN_KINDS).map((k) => ({ k, rate: all(r.byKind, k), share: r.byKind[k].all.tokens }));
  const tokens = kinds.reduce((s, x) => s + x.share, 0);
  const ran = kinds.reduce((s, x) => s + x.rate * x.share, 0);
  const byLift = [...kinds].sort((a, b) => b.rate - a.rate);
  const computeShare = (x: (typeof kinds)[number]) => (x.rate * x.share) / ran;
  const top = byLift[0];
  const bottom = byLift[byLift.length - 1];
  const agreement = [...kinds].map((x) => ({ k: x.k, acc: r.byKind[x.k].all.agree! / r.byKind[x.k].all.tokens })).sort((a, b) => a.acc - b.acc);
  const near = all(r.byDistance, '1');
  const far = order(r.byDistance).slice(-1)[0];
  const places = order(r.byPlace);
  const first = all(r.byPlace, '1');
  const late = all(r.byPlace, places[places.length - 1]);
  const placeName = (p: string) => (p === 'line break' ? 'line breaks' : p === '1' ? 'the first token of a line' : `token ${p} of a line`);
  const most = (t: Table, b: number) => Object.keys(t).reduce((x, y) => (rate(t[y][b]) > rate(t[x][b]) ? y : x));
  const specialised = r.routedBlocks.map((b) => {
    const [k, p] = [most(r.byKind, b), most(r.byPlace, b)];
    return `block ${b}: ${k} (${pct(rate(r.byKind[k][b]))}) and ${placeName(p)} (${pct(rate(r.byPlace[p][b]))})`;
  });
  return [
    `- At inference the routed blocks run for ${pct(ran / tokens)} of validation tokens (balanced budget; top-k takes ${pct(r.capacity)} of each training window).`,
    `- Per token, they spend most on **${top.k}** tokens (${pct(top.rate)}, ${(top.rate / (ran / tokens)).toFixed(2)}x the average) and least on **${bottom.k}** (${pct(bottom.rate)}, ${(bottom.rate / (ran / tokens)).toFixed(2)}x). ` +
      `Of all routed-block work, ${kinds.map((x) => `${x.k} ${pct(computeShare(x))}`).join(', ')} (their shares of tokens: ${kinds.map((x) => `${pct(x.share / tokens)}`).join(', ')}).`,
    `- Each block has tokens of its own; the kind and the place in the line each runs for most often: ${specialised.join('; ')}.`,
    `- In the line: the first token after a line break runs ${pct(first)}, a line break ${pct(all(r.byPlace, 'line break'))}, tokens ${places[places.length - 1]} into the line ${pct(late)}.`,
    `- At decode, the first generated token runs ${pct(near)} of the routed blocks, tokens ${far} away ${pct(all(r.byDistance, far))} (${r.sample.decodeCases} completions, ${r.sample.decodeTokens} tokens: a small sample).`,
    `- The predictor agrees with top-k least on ${agreement[0].k} (${pct(agreement[0].acc)}) and most on ${agreement[agreement.length - 1].k} (${pct(agreement[agreement.length - 1].acc)}).`,
  ].join('\n');
}

function routingMarkdown(r: RoutingReport): string {
  const b = r.routedBlocks;
  return ['# What the routed blocks spend compute on', '',
    `Rebuild: \`npm run report:routing\` (${Math.round(r.sample.topkSeconds)} s in PyTorch and ${Math.round(r.sample.seconds)} s in the engine when this was written, after the build). Model: ${r.model} (float sha256 ${r.sha256.slice(0, 12)}…). ` +
    `${r.sample.windows} validation windows of ${r.sample.seqLen} tokens (data/tokens-v2/val.bin, each from the start of an evenly spaced chunk), ${r.sample.bodyTokens} code tokens ` +
    '(file headers and special tokens left out). "Ran" is what the product does: the engine on the 4-bit graph at the balanced budget ' +
    `(predictor threshold ${r.threshold}). "Top-k" is training routing, from the same weights in PyTorch (bf16, as training evaluates), with the predictor's call (logit > 0) on that path; ` +
    'kinds come from src/engine/token-kind.ts, the classifier the compute panel colours tokens with (a rough lexer: template literals count as strings).', '',
    '## Reading', '', reading(r), '',
    '## By block', '', blockTable(r), '',
    '## By token kind', '', ranTable(r.byKind, b, 'kind', TOKEN_KINDS), '',
    '## By place in the line', '', 'A token holding a line break is the break; the others count from it (1: the first token of the line, often its indentation).', '',
    ranTable(r.byPlace, b, 'place'), '',
    '## At decode: by distance to the cursor', '',
    `One completion per window (cursor on a random line of its first file, at a random column past the indentation; at most ${DECODE_TOKENS} tokens, 4 lines), through CompletionEngine.complete: its compute grid.`, '',
    ranTable(r.byDistance, b, 'tokens after the cursor', undefined, false), '',
    '### At decode: by kind', '', ranTable(r.decodeByKind, b, 'kind', TOKEN_KINDS, false), ''].join('\n');
}

async function main(): Promise<void> {
  const root = packageRoot();
  const out = path.resolve(root, arg('--out', 'docs/reports'));
  const r = await analyse(path.resolve(root, arg('--topk', 'out/routing/topk.json')));
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'routing.json'), JSON.stringify(r, null, 1));
  fs.writeFileSync(path.join(out, 'routing.md'), routingMarkdown(r));
  console.log(reading(r));
}

void main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
