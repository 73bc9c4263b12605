// Completion quality on held-out code (test/fixtures/heldout-cases.jsonl, files never trained on):
// the shipped model with MoD routing, the same weights with every block on, the dense baseline
// model trained at the same FLOPs, and a baseline that needs no model (repeat the most similar
// earlier line), per language and cursor kind.
//
//   node out/src/report/quality.js [--model DIR] [--dense models/baselines/dense-d256-l8] [--out docs/reports] [--render-only]
import '../engine/telemetry'; // first: turns onnxruntime telemetry off before it loads
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CompletionEngine } from '../engine/engine';
import { COMPUTE_BUDGETS } from '../engine/budgets';
import { CaseResult, engineCompleter, EvalCase, EvalReport, parseCases, runCases, summarize } from '../engine/evaluate';
import { editSimilarity } from '../engine/metrics';
import { defaultModelDir, packageRoot } from '../engine/paths';
import { barChart } from './svg';
import { arg } from '../tools/argv';

/**
 * No-model baseline: find the earlier line that best matches the text typed so far on the cursor
 * line and repeat what followed on it (for multi-line cases, also the lines after it).
 */
/** Names the dense baseline by its training FLOPs against the MoD model's (equal or not). */
export function denseLabel(denseDir: string, modDir: string): string {
  const flops = (d: string) => JSON.parse(fs.readFileSync(path.join(d, 'manifest.json'), 'utf8')).training.trainFlops as number;
  const [d, m] = [flops(denseDir), flops(modDir)];
  return Math.abs(d / m - 1) < 0.01 ? 'dense baseline model, same training FLOPs' : `dense baseline model, ${d.toExponential(2)} training FLOPs (MoD: ${m.toExponential(2)})`;
}

export function similarLineBaseline(c: EvalCase): string {
  const lines = c.prefix.split('\n');
  const head = lines.pop()!;
  const headT = head.trimStart();
  let best = -1;
  let bestScore = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i].trimStart();
    if (l.length < headT.length || !l.trim()) continue;
    const score = l.startsWith(headT) ? 2 + headT.length : editSimilarity(l.slice(0, headT.length), headT);
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  }
  if (best < 0) return '';
  // Continue after the word being typed where the earlier line has it, else at the same column.
  const line = lines[best].trimStart();
  const frag = /[\w.]*$/.exec(headT)![0];
  const at = frag ? line.indexOf(frag, Math.max(0, headT.length - frag.length - 8)) : -1;
  const rest = at >= 0 ? line.slice(at + frag.length) : line.slice(headT.length);
  if (c.kind !== 'multi-line') return rest;
  const n = c.target.split('\n').length - 1;
  return [rest, ...lines.slice(best + 1, best + 1 + n)].join('\n');
}

async function main(): Promise<void> {
  const root = packageRoot();
  const out = path.resolve(root, arg('--out', 'docs/reports'));
  if (process.argv.includes('--render-only')) return render(out, JSON.parse(fs.readFileSync(path.join(out, 'quality.json'), 'utf8')) as QualityData);
  const cases = parseCases(fs.readFileSync(path.join(root, 'test/fixtures/heldout-cases.jsonl'), 'utf8'), 'cases');
  const load = (dir: string) => CompletionEngine.load({ modelDir: path.resolve(root, dir), precision: 'q4', provider: 'cpu' });
  const e = await load(arg('--model', defaultModelDir()));
  const dense = await load(arg('--dense', 'models/baselines/dense-d256-l8'));
  const model = (engine: CompletionEngine, threshold: number) => runCases(cases, engineCompleter((req) => engine.complete(req), { threshold }));
  const systems: Record<string, CaseResult[]> = {
    [`MoD model (threshold ${COMPUTE_BUDGETS.balanced})`]: await model(e, COMPUTE_BUDGETS.balanced),
    'same weights, every block on': await model(e, -1),
    [denseLabel(path.resolve(root, arg('--dense', 'models/baselines/dense-d256-l8')), path.resolve(root, arg('--model', defaultModelDir())))]: await model(dense, -1),
    'no model: repeat most similar earlier line': await runCases(cases, async (k) => ({ text: similarLineBaseline(k), saved: 0, ms: 0 })),
  };
  const reports = Object.fromEntries(Object.entries(systems).map(([k, rows]) => [k, summarize(rows)]));
  fs.mkdirSync(out, { recursive: true });
  const data: QualityData = { model: e.info.model, baseline: dense.info.model, cases: cases.length, reports };
  fs.writeFileSync(path.join(out, 'quality.json'), JSON.stringify(data, null, 1));
  render(out, data);
}

interface QualityData { model: string; baseline: string; cases: number; reports: Record<string, EvalReport> }

/** Charts and the Markdown table from the measured data (`--render-only` redraws them from quality.json). */
function render(out: string, { cases, reports }: QualityData): void {
  const groups = Object.keys(Object.values(reports)[0].groups);
  const names = Object.keys(reports);
  const categories = [...groups, 'all'];
  for (const [file, key, label] of [['quality-edit-similarity.svg', 'editSimilarity', 'edit similarity'], ['quality-exact-match.svg', 'exactMatch', 'exact match']] as const) {
    const series = names.map((n) => ({ name: n, values: categories.map((g) => (g === 'all' ? reports[n][key] : reports[n].groups[g][key])) }));
    fs.writeFileSync(path.join(out, file), barChart(categories, series, { title: `Held-out completions: ${label}`, xLabel: 'language / cursor', yLabel: label }));
  }
  const lines = [`# Held-out completion quality (${cases} cases from files never trained on)`, '',
    `Exact match / edit similarity (%), after post-processing. ${names.map((n, i) => `(${i + 1}) ${n}`).join('; ')}.`, '',
    `| language/cursor | cases | ${names.map((_, i) => `(${i + 1}) exact`).join(' | ')} | ${names.map((_, i) => `(${i + 1}) edit sim`).join(' | ')} |`,
    `|---|---|${names.map(() => '---|').join('')}${names.map(() => '---|').join('')}`,
    ...[...groups, 'all'].map((g) => {
      const pick = (r: (typeof reports)[string]) => (g === 'all' ? { exactMatch: r.exactMatch, editSimilarity: r.editSimilarity, cases: r.cases } : r.groups[g]);
      const rs = names.map((n) => pick(reports[n]));
      return `| ${g} | ${rs[0].cases} | ${rs.map((r) => (100 * r.exactMatch).toFixed(1)).join(' | ')} | ${rs.map((r) => (100 * r.editSimilarity).toFixed(1)).join(' | ')} |`;
    }),
    '', '| system | exact match | edit similarity | latency p50 | latency p95 | compute saved vs every block on |', '|---|---|---|---|---|---|',
    ...names.map((n, i) => {
      const r = reports[n];
      const model = i < names.length - 1; // the last system is the no-model baseline
      return `| (${i + 1}) ${n} | ${(100 * r.exactMatch).toFixed(1)}% | ${(100 * r.editSimilarity).toFixed(1)}% | ${model ? `${r.p50Ms.toFixed(0)} ms` : '–'} | ${model ? `${r.p95Ms.toFixed(0)} ms` : '–'} | ${model ? `${(100 * r.computeSaved).toFixed(1)}%` : '–'} |`;
    }), '',
    '![edit similarity](quality-edit-similarity.svg) ![exact match](quality-exact-match.svg)', ''];
  fs.writeFileSync(path.join(out, 'quality.md'), lines.join('\n'));
  console.log(lines.join('\n'));
}

if (require.main === module) void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
