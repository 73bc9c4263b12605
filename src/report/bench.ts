// `npm run report:bench`: the bench on the shipped model against its plain dense view (written
// first by training/export.py --from-onnx --plain-dense), saved as docs/reports/bench.json and
// bench.md, whose table the README and the model card copy.
//
//   node out/src/report/bench.js [--plain-dense out/plain-dense] [--out docs/reports]
import '../engine/telemetry'; // first: turns onnxruntime telemetry off before it loads
import * as fs from 'node:fs';
import * as path from 'node:path';
import { benchTable, runBench } from '../cli/bench';
import { defaultModelDir, packageRoot } from '../engine/paths';
import { arg } from '../tools/argv';

async function main(): Promise<void> {
  const root = packageRoot();
  const out = path.resolve(root, arg('--out', 'docs/reports'));
  const r = await runBench({ modelDir: defaultModelDir(), provider: 'cpu', threads: 1, plainDense: path.resolve(root, arg('--plain-dense', 'out/plain-dense')) });
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'bench.json'), JSON.stringify(r, null, 1));
  const q = r.decode.q4;
  const md = ['# Decode speed: MoD routing against the plain dense graph of the same weights', '',
    'Rebuild: `npm run report:bench`. One run, side by side: 128 tokens of real code decoded one by one after a 256-token prompt,',
    '5 rounds with the order rotated, medians; provider cpu, 1 thread. The plain dense graph is the same weights without predictors,',
    '`If`, NonZero, Gather or ScatterND (`training/export.py --plain-dense`); "every block on" is the routed graph at threshold -1.', '',
    benchTable(r), '',
    '| | 4-bit | float |', '|---|---|---|',
    `| prefill 256 / 512 / 1024 tokens (ms) | ${[256, 512, 1024].map((l) => r.prefillMs.q4[l].toFixed(0)).join(' / ')} | ${[256, 512, 1024].map((l) => r.prefillMs.float[l].toFixed(0)).join(' / ')} |`,
    `| time to first token after a 1-character edit, prompt reuse vs cold (ms) | ${r.ttft.reuseMs.toFixed(1)} vs ${r.ttft.coldMs.toFixed(1)} | – |`,
    `| max logit difference, plain dense vs every block on | ${q.plainDense!.maxLogitDiff.toExponential(1)} | ${r.decode.float.plainDense!.maxLogitDiff.toExponential(1)} |`,
    `| peak RSS of the bench (4 models loaded, MB) | ${r.peakRssMB.toFixed(0)} | |`, ''].join('\n');
  fs.writeFileSync(path.join(out, 'bench.md'), md);
  console.log(r.table);
}

void main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
