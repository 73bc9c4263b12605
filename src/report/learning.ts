// The model's learning curve across sessions: one row per session's snapshot (tokens seen by the
// weights, validation bits/byte, held-out exact match and edit similarity, predictor accuracy, and
// whether it shipped). Rows live in docs/reports/learning-curve.json; this renders the table and
// chart and, with --add, records a snapshot from its decay run and its held-out eval.
//
//   node out/src/report/learning.js [--in docs/reports/learning-curve.json] [--out docs/reports]
//   node out/src/report/learning.js --add --label "session 8" --run training/runs/decay-s8 --eval EVAL.json [--shipped]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../engine/paths';
import { lineChart, PALETTE } from './svg';
import { arg } from '../tools/argv';

export interface CurveRow {
  label: string;
  date: string;
  tokens: number;
  valBitsPerByte: number;
  exactMatch: number;
  editSimilarity: number;
  predictorAccuracy: number;
  shipped: boolean;
  recipe: string;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Adds a row, replacing one with the same label (a session re-measured). */
export function withRow(rows: CurveRow[], row: CurveRow): CurveRow[] {
  return [...rows.filter((r) => r.label !== row.label), row].sort((a, b) => a.tokens - b.tokens);
}

/** Relative bits/byte change of each row against the one before it. */
export function improvements(rows: CurveRow[]): (number | undefined)[] {
  return rows.map((r, i) => (i === 0 ? undefined : r.valBitsPerByte / rows[i - 1].valBitsPerByte - 1));
}

export function curveTable(rows: CurveRow[]): string {
  const imp = improvements(rows);
  return ['| snapshot | date | tokens seen | val bits/byte | vs previous | held-out exact | held-out edit sim | predictor acc | shipped | recipe |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r, i) => `| ${r.label} | ${r.date} | ${(r.tokens / 1e6).toFixed(1)}M | ${r.valBitsPerByte.toFixed(3)} | ${imp[i] === undefined ? '–' : `${imp[i]! >= 0 ? '+' : ''}${(100 * imp[i]!).toFixed(1)}%`} | ` +
      `${pct(r.exactMatch)} | ${pct(r.editSimilarity)} | ${pct(r.predictorAccuracy)} | ${r.shipped ? 'yes' : 'no'} | ${r.recipe} |`)].join('\n');
}

export function curveChart(rows: CurveRow[]): string {
  const pts = (y: (r: CurveRow) => number) => rows.map((r) => [r.tokens, y(r)] as [number, number]);
  return lineChart([{ name: 'val bits/byte', color: PALETTE[0], points: pts((r) => r.valBitsPerByte) },
    { name: 'held-out edit sim x 10', color: PALETTE[1], points: pts((r) => 10 * r.editSimilarity) }],
  { title: 'Learning curve: one point per session', xLabel: 'tokens seen', yLabel: 'bits/byte; edit similarity x 10' });
}

/** A row from a decay run's summary.json + config.json and a `mod-complete eval --json` output. */
export function rowFromRun(runDir: string, evalFile: string, label: string, shipped: boolean): CurveRow {
  const summary = JSON.parse(fs.readFileSync(path.join(runDir, 'summary.json'), 'utf8'));
  const args = JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8')).args;
  const e = JSON.parse(fs.readFileSync(evalFile, 'utf8'));
  return {
    label, date: new Date().toISOString().slice(0, 10), tokens: summary.tokens, valBitsPerByte: summary.final.val_bpb_predictor,
    exactMatch: e.exactMatch, editSimilarity: e.editSimilarity, predictorAccuracy: summary.final.pred_acc, shipped,
    recipe: `${args.opt ?? 'adamw'}, ${args.schedule ?? 'cosine'}${args.router_bce ? ', router BCE' : ''}`,
  };
}

if (require.main === module) {
  const root = packageRoot();
  const file = path.resolve(root, arg('--in', 'docs/reports/learning-curve.json'));
  const out = path.resolve(root, arg('--out', 'docs/reports'));
  let rows: CurveRow[] = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : [];
  if (process.argv.includes('--add')) {
    rows = withRow(rows, rowFromRun(path.resolve(root, arg('--run', '')), path.resolve(root, arg('--eval', '')), arg('--label', ''), process.argv.includes('--shipped')));
    fs.writeFileSync(file, JSON.stringify(rows, null, 1) + '\n');
  }
  fs.writeFileSync(path.join(out, 'learning-curve.svg'), curveChart(rows));
  const md = ['# Learning curve', '', 'One snapshot per session: the long run continues from training/checkpoints/, and each session ships a decay branch when it beats',
    'the shipped model on held-out edit similarity. Validation bits/byte on the same 224 validation files every time (predictor routing, PyTorch);',
    'held-out: test/fixtures/heldout-cases.jsonl through the engine, 4-bit. Rebuild: `node out/src/report/learning.js`.', '',
    curveTable(rows), '', '![learning curve](learning-curve.svg)', ''].join('\n');
  fs.writeFileSync(path.join(out, 'learning-curve.md'), md);
  console.log(md);
}
