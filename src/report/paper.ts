// Report for the paper-style comparison (training/compare.py output): charts under docs/reports
// and a claims table that says, per claim of Raposo et al. (2024), whether our runs agree. The
// shipped MoD model and its dense baseline (trained at the same FLOPs) add one larger budget,
// read from their manifests.
//
//   node out/src/report/paper.js [--in docs/reports/paper-comparison.json] [--out docs/reports]
//     [--mod-record docs/reports/first-model-record.json] [--dense models/baselines/dense-d256-l8] [--step-time docs/reports/step-time.json]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../engine/paths';
import { DASHED, lineChart, PALETTE, Series } from './svg';
import { arg } from '../tools/argv';

export interface EvalPoint {
  trainFlops: number;
  elapsed: number;
  tokens: number;
  val_bpb_topk: number;
  val_bpb_predictor: number;
  pred_acc?: number;
  pred_recall?: number;
  pred_routed_frac_by_layer?: Record<string, number>;
}

export interface Run {
  variant: string;
  budget: number;
  stepSeconds: number;
  /** Why this run's step time cannot be set against the others of its budget, if it cannot. */
  timingCaveat?: string;
  threads?: number;
  summary: { final: EvalPoint; forward_flops_per_token: number; forward_flops_per_token_every_block_on: number; tokens: number; elapsed: number; train_flops: number };
  evals: EvalPoint[];
}

export interface Claim { claim: string; budget: number; verdict: 'agrees' | 'disagrees' | 'no data'; detail: string }

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Fraction of tokens top-k sends through a routed block in every run here. */
export const CAPACITY = 0.125;

/** Evaluates the paper's claims on the runs of one budget. Pure: tested with synthetic runs. */
export function evaluateClaims(runs: Run[]): Claim[] {
  const claims: Claim[] = [];
  for (const budget of [...new Set(runs.map((r) => r.budget))].sort((a, b) => a - b)) {
    const get = (v: string) => runs.find((r) => r.budget === budget && r.variant === v);
    const mod = get('mod');
    const dense = get('dense');
    const stoch = get('stochastic');
    const add = (claim: string, ok: boolean | undefined, detail: string) => claims.push({ claim, budget, verdict: ok === undefined ? 'no data' : ok ? 'agrees' : 'disagrees', detail });
    if (mod && dense) {
      const m = mod.summary.final.val_bpb_topk;
      const d = dense.summary.final.val_bpb_topk;
      add('MoD matches or beats the isoFLOP dense baseline (within 1%)', m <= d * 1.01, `MoD ${m.toFixed(3)} vs dense ${d.toFixed(3)} bits/byte (${m < d ? '' : '+'}${pct(m / d - 1)})`);
      const fr = mod.summary.forward_flops_per_token / dense.summary.forward_flops_per_token;
      add('MoD needs far fewer FLOPs per forward pass (< 70% of dense)', fr < 0.7, `${pct(fr)} of the dense model's FLOPs per token`);
      const caveat = mod.timingCaveat ?? dense.timingCaveat;
      const steps = `step time ${mod.stepSeconds.toFixed(3)} s vs ${dense.stepSeconds.toFixed(3)} s (${pct(mod.stepSeconds / dense.stepSeconds)})`;
      add('MoD steps faster than dense', caveat ? undefined : mod.stepSeconds < dense.stepSeconds, caveat ? `${steps}; not comparable: ${caveat}` : steps);
    }
    if (mod && stoch) {
      const m = mod.summary.final.val_bpb_topk;
      const s = stoch.summary.final.val_bpb_topk;
      const worseThanDense = dense ? s > dense.summary.final.val_bpb_topk : true;
      add('Stochastic routing is much worse than learned routing (> 2%) and than dense', s > m * 1.02 && worseThanDense, `stochastic ${s.toFixed(3)} vs MoD ${m.toFixed(3)}${dense ? ` vs dense ${dense.summary.final.val_bpb_topk.toFixed(3)}` : ''} bits/byte`);
    }
    if (mod) {
      const { pred_acc: acc, pred_recall: recall } = mod.summary.final;
      const vsTrivial = `always skipping scores ${pct(1 - CAPACITY)}${recall === undefined ? '' : `; recall ${pct(recall)}`}`;
      add('The causal predictor reaches 97-99% accuracy', acc === undefined ? undefined : acc >= 0.97, acc === undefined ? 'not logged' : `accuracy ${pct(acc)} against top-k membership (${vsTrivial})`);
      // Accuracy alone flatters a predictor that never fires: it must beat always-skip and find most routed tokens.
      add('The predictor has learned the router (beats always-skip, recall > 50%)', acc === undefined || recall === undefined ? undefined : acc > 1 - CAPACITY && recall > 0.5,
        acc === undefined || recall === undefined ? 'not logged' : `accuracy ${pct(acc)} vs ${pct(1 - CAPACITY)}, recall ${pct(recall)}`);
      const t = mod.summary.final.val_bpb_topk;
      const p = mod.summary.final.val_bpb_predictor;
      add('Sampling with the predictor instead of top-k costs little (< 1%)', p <= t * 1.01, `predictor ${p.toFixed(3)} vs top-k ${t.toFixed(3)} bits/byte (${p < t ? '' : '+'}${pct(p / t - 1)})`);
    }
    // The control: is MoD's gain from the routed blocks, or only from a shallower net seeing more tokens?
    const shallow = get('dense-unrouted');
    if (mod && shallow) {
      const m = mod.summary.final.val_bpb_topk;
      const s = shallow.summary.final.val_bpb_topk;
      add('Control: the routed blocks add something (MoD beats a dense net of only its unrouted blocks at equal FLOPs)', m < s,
        `MoD ${m.toFixed(3)} vs unrouted blocks only ${s.toFixed(3)} bits/byte (${m < s ? '' : '+'}${pct(m / s - 1)})`);
    }
    const bce = get('mod-router-bce');
    if (mod && bce) {
      const m = mod.summary.final.val_bpb_topk;
      const b = bce.summary.final.val_bpb_topk;
      add('The auxiliary router BCE loss costs little (< 1%; paper: 0.2-0.3%)', b <= m * 1.01, `router-BCE ${b.toFixed(3)} vs MoD ${m.toFixed(3)} bits/byte (${b < m ? '' : '+'}${pct(b / m - 1)})`);
    }
  }
  return claims;
}

/** The `training` and `quality` sections of a model manifest (written by the model-card tool). */
export interface ManifestRecord {
  training: { tokens: number; steps: number; seconds: number; trainFlops: number; forwardFlopsPerToken: number; forwardFlopsPerTokenEveryBlockOn: number; device: string };
  quality: { valBitsPerByteTopk: number; valBitsPerBytePredictor?: number; predictorAccuracy?: number; predictorRecall?: number; routedFractionByBlock?: Record<string, number> };
}

/** A trained model package as a run of the comparison, at the given budget. */
export function runFromManifest(variant: string, m: ManifestRecord, budget: number, timingCaveat?: string): Run {
  const t = m.training;
  const q = m.quality;
  const final: EvalPoint = {
    trainFlops: t.trainFlops, elapsed: t.seconds, tokens: t.tokens, val_bpb_topk: q.valBitsPerByteTopk,
    val_bpb_predictor: q.valBitsPerBytePredictor ?? q.valBitsPerByteTopk, pred_acc: q.predictorAccuracy, pred_recall: q.predictorRecall,
    pred_routed_frac_by_layer: q.routedFractionByBlock,
  };
  return {
    variant, budget, stepSeconds: t.seconds / t.steps, timingCaveat, evals: [],
    summary: { final, forward_flops_per_token: t.forwardFlopsPerToken, forward_flops_per_token_every_block_on: t.forwardFlopsPerTokenEveryBlockOn, tokens: t.tokens, elapsed: t.seconds, train_flops: t.trainFlops },
  };
}

/** training/steptime.py output: both models' step time measured back to back under one load. */
export interface StepTime { stepSeconds: Record<'mod' | 'dense', number>; threads: number }

/**
 * The shipped MoD model against its dense baseline. Step times come from steptime.py when given;
 * the training runs' own timings only count when both trained under the same load.
 */
export function shippedScaleRuns(mod: ManifestRecord, dense: ManifestRecord, stepTime?: StepTime): Run[] {
  const caveat = stepTime || mod.training.device === dense.training.device ? undefined : `trained under different CPU load (${mod.training.device} vs ${dense.training.device})`;
  // Only a dense model trained with the same FLOPs (within 1%) is paired with the MoD model; any
  // other sits at its own budget, so no isoFLOP claim is drawn from it.
  const same = Math.abs(dense.training.trainFlops / mod.training.trainFlops - 1) < 0.01;
  const runs = [runFromManifest('mod', mod, mod.training.trainFlops, caveat), runFromManifest('dense', dense, same ? mod.training.trainFlops : dense.training.trainFlops, caveat)];
  if (stepTime) for (const r of runs) Object.assign(r, { stepSeconds: stepTime.stepSeconds[r.variant as 'mod' | 'dense'], threads: stepTime.threads });
  return runs;
}

export function claimsTable(claims: Claim[]): string {
  return ['| budget (train FLOPs) | claim | our runs | evidence |', '|---|---|---|---|',
    ...claims.map((c) => `| ${c.budget.toExponential(1)} | ${c.claim} | **${c.verdict}** | ${c.detail} |`)].join('\n');
}

export function charts(runs: Run[]): Record<string, string> {
  // One colour per variant, one dash pattern per budget (the largest solid).
  const variants = [...new Set(runs.map((r) => r.variant))];
  const budgets = [...new Set(runs.map((r) => r.budget))].sort((a, b) => b - a);
  const dashes = [undefined, DASHED, '2 3', '1 5'];
  const series = (y: (e: EvalPoint) => number | undefined, x: (e: EvalPoint) => number): Series[] =>
    runs.map((r) => ({
      name: `${r.variant} @${r.budget.toExponential(0)}`,
      color: PALETTE[variants.indexOf(r.variant) % PALETTE.length],
      dash: dashes[Math.min(budgets.indexOf(r.budget), dashes.length - 1)],
      // Periodic evaluations, then the final one (over more tokens) at the end of the budget.
      points: [...r.evals, { ...r.summary.final, trainFlops: r.summary.train_flops, elapsed: r.summary.elapsed }].map((e) => [x(e), y(e) ?? NaN] as [number, number]),
    }));
  return {
    'bpb-vs-flops.svg': lineChart(series((e) => e.val_bpb_topk, (e) => e.trainFlops), { title: 'Validation bits/byte vs training FLOPs', xLabel: 'training FLOPs', yLabel: 'bits/byte' }),
    'bpb-vs-time.svg': lineChart(series((e) => e.val_bpb_topk, (e) => e.elapsed), { title: 'Validation bits/byte vs wall-clock', xLabel: 'seconds of training', yLabel: 'bits/byte' }),
    'predictor-accuracy.svg': lineChart(series((e) => e.pred_acc, (e) => e.trainFlops).filter((s) => s.points.some(([, y]) => Number.isFinite(y))),
      { title: 'Predictor accuracy vs top-k membership', xLabel: 'training FLOPs', yLabel: 'accuracy' }),
  };
}

/** Validation bits/byte (top-k) per budget and variant, and how MoD's predictor does: the README's view. */
export function budgetTable(runs: Run[]): string {
  const variants: [string, string][] = [['mod', 'MoD'], ['dense', 'dense'], ['dense-unrouted', 'dense, unrouted blocks only'], ['stochastic', 'stochastic'], ['mod-router-bce', 'MoD + router BCE']];
  const rows = [...new Set(runs.map((r) => r.budget))].sort((x, y) => x - y).map((b) => {
    const get = (v: string) => runs.find((r) => r.budget === b && r.variant === v);
    const bpb = variants.map(([v]) => get(v)?.summary.final.val_bpb_topk);
    const best = Math.min(...bpb.filter((x): x is number => x !== undefined));
    const cells = bpb.map((x) => (x === undefined ? '–' : x === best ? `**${x.toFixed(3)}**` : x.toFixed(3)));
    const mod = get('mod');
    const dense = get('dense');
    const ratio = mod && dense ? pct(mod.summary.forward_flops_per_token / dense.summary.forward_flops_per_token) : '–';
    const pred = (r?: Run) => (r?.summary.final.pred_acc === undefined || r.summary.final.pred_recall === undefined ? '–' : `${pct(r.summary.final.pred_acc)} / ${pct(r.summary.final.pred_recall)}`);
    return `| ${b.toExponential(1)} | ${cells.join(' | ')} | ${ratio} | ${pred(mod)} | ${pred(get('mod-router-bce'))} |`;
  });
  return [`| budget | ${variants.map(([, label]) => label).join(' | ')} | MoD FLOPs/token vs dense | predictor accuracy / recall (MoD) | (MoD + router BCE) |`,
    `|---|${variants.map(() => '---|').join('')}---|---|---|`, ...rows].join('\n');
}

/** The shipped-scale pair: the README's view. */
function shippedTable(runs: Run[]): string {
  return ['| model | train FLOPs | tokens seen | validation bits/byte | FLOPs/token (forward) | training step time |', '|---|---|---|---|---|---|',
    ...runs.map((r) => `| ${r.variant} | ${r.summary.train_flops.toExponential(2)} | ${(r.summary.tokens / 1e6).toFixed(2)}M | ${r.summary.final.val_bpb_topk.toFixed(3)} | ` +
      `${(r.summary.forward_flops_per_token / 1e6).toFixed(2)}M | ${r.stepSeconds.toFixed(2)} s |`)].join('\n');
}

function runsTable(runs: Run[]): string {
  const rows = runs.map((r) => {
    const f = r.summary.final;
    const routedFrac = f.pred_routed_frac_by_layer ? Object.values(f.pred_routed_frac_by_layer).map((v) => pct(v)).join(' ') : '–';
    return `| ${r.variant} | ${r.summary.train_flops.toExponential(2)} | ${(r.summary.tokens / 1e6).toFixed(2)}M | ${f.val_bpb_topk.toFixed(3)} | ${f.val_bpb_predictor.toFixed(3)} | ` +
      `${(r.summary.forward_flops_per_token / 1e6).toFixed(2)}M | ${r.stepSeconds.toFixed(3)} s (${r.threads ?? 2}) | ${f.pred_acc === undefined ? '–' : pct(f.pred_acc)} | ${f.pred_recall === undefined ? '–' : pct(f.pred_recall)} | ${routedFrac} |`;
  });
  return ['| variant | train FLOPs | tokens | bits/byte (top-k) | bits/byte (predictor) | FLOPs/token fwd | step time (threads) | predictor acc | predictor recall | routed fraction per routed block |',
    '|---|---|---|---|---|---|---|---|---|---|', ...rows].join('\n');
}

if (require.main === module) {
  const root = packageRoot();
  const input = JSON.parse(fs.readFileSync(path.resolve(root, arg('--in', 'docs/reports/paper-comparison.json')), 'utf8'));
  const out = path.resolve(root, arg('--out', 'docs/reports'));
  fs.mkdirSync(out, { recursive: true });
  const runs = input.runs as Run[];
  for (const [file, svg] of Object.entries(charts(runs))) fs.writeFileSync(path.join(out, file), svg);
  const manifest = (dir: string) => JSON.parse(fs.readFileSync(path.resolve(root, dir, 'manifest.json'), 'utf8'));
  // The shipped-scale pair is the first shipped model and the dense baseline trained at its FLOPs.
  const modPkg = JSON.parse(fs.readFileSync(path.resolve(root, arg('--mod-record', 'docs/reports/first-model-record.json')), 'utf8'));
  const arch = manifest('models/mod-complete-small').architecture;
  const stepFile = path.resolve(root, arg('--step-time', 'docs/reports/step-time.json'));
  const stepTime = fs.existsSync(stepFile) ? (JSON.parse(fs.readFileSync(stepFile, 'utf8')) as StepTime) : undefined;
  const shipped = shippedScaleRuns(modPkg, manifest(arg('--dense', 'models/baselines/dense-d256-l8')), stepTime);
  const claims = [...evaluateClaims(runs), ...evaluateClaims(shipped)];
  const a = arch;
  const md = [`# Paper-style comparison (d_model ${input.model.d_model}, ${input.model.n_layer} blocks, context ${input.model.seq_len})`, '',
    budgetTable(runs), '', runsTable(runs), '',
    `## Shipped scale (d_model ${a.d_model}, ${a.n_layer} blocks, context ${a.seq_len}): the first shipped MoD model and a dense baseline trained at the same FLOPs`, '',
    shippedTable(shipped), '', stepTime ? 'Step times at this scale: `training/steptime.py`, both models back to back under the same load.\n' : '', '## Claims', '', claimsTable(claims), '',
    '![bits/byte vs FLOPs](bpb-vs-flops.svg) ![bits/byte vs time](bpb-vs-time.svg) ![predictor accuracy](predictor-accuracy.svg)', ''].join('\n');
  fs.writeFileSync(path.join(out, 'paper-comparison.md'), md);
  fs.writeFileSync(path.join(out, 'paper-claims.json'), JSON.stringify(claims, null, 1));
  console.log(md);
  const failed = claims.filter((c) => c.verdict === 'disagrees');
  if (failed.length) console.log(`${failed.length} claim(s) not reproduced at this scale (see the table).`);
}
