// Speed/quality curve of the compute-budget knob: for each predictor threshold, decode tokens/s,
// compute saved, validation bits/byte and held-out exact match, on the shipped model.
//
//   node out/src/report/curve.js [--model DIR] [--cases N] [--out docs/reports] [--render-only]
import '../engine/telemetry'; // first: turns onnxruntime telemetry off before it loads
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeRun, DecodeRun } from '../cli/bench';
import { bitsPerByte, readTokens } from '../engine/bpb';
import { CompletionEngine } from '../engine/engine';
import { engineCompleter, parseCases, runCases, summarize } from '../engine/evaluate';
import { median } from '../engine/metrics';
import { defaultModelDir, packageRoot } from '../engine/paths';
import { DASHED, lineChart } from './svg';
import { arg } from '../tools/argv';

interface CurveRow {
  threshold: number;
  tokensPerSecond: number;
  decodeComputeSaved: number;
  routedFraction: number;
  bitsPerByte: number;
  exactMatch: number;
  editSimilarity: number;
  completionComputeSaved: number;
}

export const THRESHOLDS = [-1, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 2];
const SPEED_ROUNDS = 7;

async function main(): Promise<void> {
  const root = packageRoot();
  const out = path.resolve(root, arg('--out', 'docs/reports'));
  if (process.argv.includes('--render-only')) return render(out, JSON.parse(fs.readFileSync(path.join(out, 'threshold-curve.json'), 'utf8')) as CurveData);
  const e = await CompletionEngine.load({ modelDir: path.resolve(arg('--model', defaultModelDir())), precision: 'q4', provider: 'cpu' });
  const val = readTokens(path.join(root, 'test/fixtures/val-sample.bin'));
  const all = parseCases(fs.readFileSync(path.join(root, 'test/fixtures/heldout-cases.jsonl'), 'utf8'), 'cases');
  const n = Number(arg('--cases', '90'));
  const cases = all.filter((_, i) => i % Math.max(1, Math.floor(all.length / n)) === 0).slice(0, n);
  const text = (await e.tokenizer.encode(all.map((c) => c.prefix).join('\n')));
  const prompt = text.slice(0, 256);
  const stream = text.slice(256, 352);
  // Speed rounds cycle through the thresholds so that a change in machine load hits all alike; medians.
  const speeds = new Map<number, DecodeRun[]>(THRESHOLDS.map((t) => [t, []]));
  for (let i = 0; i < SPEED_ROUNDS; i++) for (const thr of THRESHOLDS) speeds.get(thr)!.push(await decodeRun(e, prompt, stream, thr));
  const rows: CurveRow[] = [];
  for (const thr of THRESHOLDS) {
    const speed = speeds.get(thr)!;
    const bpb = await bitsPerByte(e, val, val.length / 513, 512, thr);
    e.reset();
    const report = summarize(await runCases(cases, engineCompleter((req) => e.complete(req), { threshold: thr })));
    const row: CurveRow = {
      threshold: thr,
      tokensPerSecond: median(speed.map((s) => s.tokensPerSecond)),
      decodeComputeSaved: 1 - speed[0].flops / speed[0].denseFlops,
      routedFraction: bpb.routedFraction,
      bitsPerByte: bpb.bitsPerByte,
      exactMatch: report.exactMatch,
      editSimilarity: report.editSimilarity,
      completionComputeSaved: report.computeSaved,
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  fs.mkdirSync(out, { recursive: true });
  const data: CurveData = { model: e.info.model, precision: 'q4', cases: cases.length, rows };
  fs.writeFileSync(path.join(out, 'threshold-curve.json'), JSON.stringify(data, null, 1));
  render(out, data);
}

interface CurveData { model: string; precision: string; cases: number; rows: CurveRow[] }

/** Charts and the Markdown table from the measured rows (`--render-only` redraws them from threshold-curve.json). */
function render(out: string, { model, cases, rows }: CurveData): void {
  const routed = rows.filter((r) => r.threshold >= 0 && r.threshold <= 1);
  fs.writeFileSync(path.join(out, 'threshold-speed.svg'), lineChart([
    { name: 'decode tok/s', points: routed.map((r) => [r.threshold, r.tokensPerSecond]) },
    { name: 'every block on', dash: DASHED, points: routed.map((r) => [r.threshold, rows[0].tokensPerSecond]) },
  ], { title: 'Decode speed vs predictor threshold (4-bit, CPU)', xLabel: 'predictor threshold', yLabel: 'tokens/s' }));
  fs.writeFileSync(path.join(out, 'threshold-quality.svg'), lineChart([
    { name: 'bits/byte', points: routed.map((r) => [100 * r.decodeComputeSaved, r.bitsPerByte]) },
    { name: 'every block on', dash: DASHED, points: routed.map((r) => [100 * r.decodeComputeSaved, rows[0].bitsPerByte]) },
  ], { title: 'Validation bits/byte vs compute saved', xLabel: 'decode compute saved (%)', yLabel: 'bits/byte' }));
  const table = ['| threshold | routed fraction | compute saved (decode) | tokens/s | bits/byte | exact match | edit similarity |', '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.threshold < 0 ? 'every block on' : r.threshold > 1 ? 'every routed block off' : r.threshold} | ${(100 * r.routedFraction).toFixed(1)}% | ${(100 * r.decodeComputeSaved).toFixed(1)}% | ${r.tokensPerSecond.toFixed(0)} | ${r.bitsPerByte.toFixed(3)} | ${(100 * r.exactMatch).toFixed(1)}% | ${(100 * r.editSimilarity).toFixed(1)}% |`)].join('\n');
  fs.writeFileSync(path.join(out, 'threshold-curve.md'), `# Compute budget curve (${model}, 4-bit, ${cases} held-out cases)\n\n${table}\n\n![speed](threshold-speed.svg) ![quality](threshold-quality.svg)\n`);
  console.log(table);
}

if (require.main === module) void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
