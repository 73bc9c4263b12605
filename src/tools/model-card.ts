// Measures the exported model and writes its model card (models/<name>/MODEL_CARD.md) and the
// `training` and `quality` sections of its manifest.json. Figures come from the training run's
// summary (PyTorch) and from the engine itself (onnxruntime-node) on the validation shard.
//
//   node out/src/tools/model-card.js --run training/runs/mod-d256-l8 --model models/mod-complete-small [--windows 64]
//     [--device "CPU, 2 threads, bf16 autocast"]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bitsPerByte } from '../engine/bpb';
import { COMPUTE_BUDGETS } from '../engine/budgets';
import { CompletionEngine } from '../engine/engine';
import { packageRoot } from '../engine/paths';
import { arg } from './argv';

const f3 = (x: number) => x.toFixed(3);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** Optional sections from `mod-complete bench --json` and `mod-complete eval --json` outputs. */
function measured(benchFile: string, evalFile: string): string {
  let out = '';
  if (benchFile) {
    const b = JSON.parse(fs.readFileSync(benchFile, 'utf8'));
    const row = (k: string) => {
      const d = b.decode[k];
      return `| ${k} | ${d.routed.tokensPerSecond.toFixed(0)} | ${d.everyBlockOn.tokensPerSecond.toFixed(0)} | ${d.speedup.toFixed(2)}x | ${(d.routed.flopsPerToken / 1e6).toFixed(2)}M vs ${(d.everyBlockOn.flopsPerToken / 1e6).toFixed(2)}M | ${pct(d.routed.routedFraction)} |`;
    };
    out += `\n## Speed (\`mod-complete bench\`, ${b.provider}, 1 thread)\n| model | decode tok/s, routed | every block on | speedup | FLOPs/token | routed fraction while decoding |\n|---|---|---|---|---|---|\n${row('q4')}\n${row('float')}\n\n` +
      `Prefill of 256 / 512 / 1024 tokens (4-bit): ${[256, 512, 1024].map((l) => b.prefillMs.q4[l].toFixed(0)).join(' / ')} ms. Time to first token after a one-character edit: ${b.ttft.reuseMs.toFixed(1)} ms with prompt reuse vs ${b.ttft.coldMs.toFixed(1)} ms cold.\n`;
  }
  if (evalFile) {
    const e = JSON.parse(fs.readFileSync(evalFile, 'utf8'));
    out += `\n## Completion quality (\`mod-complete eval\` on test/fixtures/heldout-cases.jsonl, ${e.cases} cases from files never trained on)\n` +
      `Exact match ${pct(e.exactMatch)}, edit similarity ${pct(e.editSimilarity)}, compute saved ${pct(e.computeSaved)}, latency p50 ${e.p50Ms.toFixed(0)} ms / p95 ${e.p95Ms.toFixed(0)} ms.\n\n` +
      `| language/cursor | cases | exact match | edit similarity |\n|---|---|---|---|\n` +
      Object.entries(e.groups as Record<string, { cases: number; exactMatch: number; editSimilarity: number }>).map(([k, g]) => `| ${k} | ${g.cases} | ${pct(g.exactMatch)} | ${pct(g.editSimilarity)} |`).join('\n') + '\n';
  }
  return out;
}

async function main(): Promise<void> {
  const root = packageRoot();
  const run = path.resolve(root, arg('--run', 'training/runs/mod-d256-l8'));
  const modelDir = path.resolve(root, arg('--model', 'models/mod-complete-small'));
  const valPath = path.resolve(root, arg('--val', 'data/tokens/val.bin'));
  const windows = Number(arg('--windows', '64'));
  const summary = JSON.parse(fs.readFileSync(path.join(run, 'summary.json'), 'utf8'));
  const config = JSON.parse(fs.readFileSync(path.join(run, 'config.json'), 'utf8'));
  const corpus = JSON.parse(fs.readFileSync(path.join(root, 'training/corpus-manifest.json'), 'utf8'));
  const meta = JSON.parse(fs.readFileSync(path.join(path.dirname(valPath), 'meta.json'), 'utf8'));
  const buf = fs.readFileSync(valPath);
  const val = new Uint16Array(buf.buffer, buf.byteOffset, buf.length >> 1);

  const manifestPath = path.join(modelDir, 'manifest.json');
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const a = manifest.architecture;
  // A dense baseline has no routed blocks, hence no predictor; a baseline may ship 4-bit only.
  const routed = a.routed_blocks.length > 0;
  const q = {} as Record<string, Awaited<ReturnType<typeof bitsPerByte>>>;
  for (const precision of (['float', 'q4'] as const).filter((p) => manifest.files[p])) {
    const e = await CompletionEngine.load({ modelDir, precision, provider: 'cpu' });
    q[precision] = await bitsPerByte(e, val, windows, e.info.architecture.seq_len, COMPUTE_BUDGETS.balanced);
    if (!q.allOn && routed) q.allOn = await bitsPerByte(e, val, windows, e.info.architecture.seq_len, COMPUTE_BUDGETS.full);
    console.log(precision, JSON.stringify(q[precision]));
  }
  q.allOn ??= q.float ?? q.q4;
  const quantDelta = q.float && q.q4 ? q.q4.bitsPerByte / q.float.bitsPerByte - 1 : undefined;
  const fin = summary.final;
  manifest.training = {
    tokens: summary.tokens, steps: summary.step, seconds: Math.round(summary.elapsed), trainFlops: summary.train_flops,
    forwardFlopsPerToken: summary.forward_flops_per_token, forwardFlopsPerTokenEveryBlockOn: summary.forward_flops_per_token_every_block_on,
    // Training speed only compares between runs under the same load: say when the CPU was shared.
    device: arg('--device', 'CPU, 2 threads, bf16 autocast'), params: summary.params, seqLen: config.config.seq_len,
    batchTokens: config.args.batch * config.config.seq_len, lr: config.args.lr, fimRate: 0.5,
  };
  manifest.quality = {
    valBitsPerByteTopk: fin.val_bpb_topk, valBitsPerBytePredictor: fin.val_bpb_predictor,
    onnxBitsPerByteFloat: q.float?.bitsPerByte, onnxBitsPerByteQ4: q.q4?.bitsPerByte, onnxBitsPerByteEveryBlockOn: q.allOn.bitsPerByte,
    quantizedVsFloat: quantDelta, predictorAccuracy: fin.pred_acc, predictorPrecision: fin.pred_precision, predictorRecall: fin.pred_recall,
    routedFraction: (q.q4 ?? q.float).routedFraction, routedFractionByBlock: fin.pred_routed_frac_by_layer, evalTokens: q.allOn.tokens,
  };
  fs.writeFileSync(manifestPath, JSON.stringify(manifest, null, 1));
  const files = Object.entries(manifest.files as Record<string, { path: string; bytes: number; sha256: string }>)
    .map(([k, v]) => `| ${k} | \`${v.path}\` | ${(v.bytes / 1e6).toFixed(1)} MB | \`${v.sha256.slice(0, 16)}…\` |`).join('\n');
  const vocabFile = path.resolve(root, arg('--vocab-choice', 'data/tokenizer/vocab-choice.json'));
  const vocab = fs.existsSync(vocabFile) ? JSON.parse(fs.readFileSync(vocabFile, 'utf8')) : undefined;
  const row = (measure: string, value: string) => `| ${measure} | ${value} |\n`;
  const card = `# ${manifest.name} — model card

${routed ? `A ${(summary.params / 1e6).toFixed(1)}M-parameter decoder-only code model trained from scratch with
Mixture-of-Depths routing for local fill-in-the-middle completion in MoD Complete.` : `A ${(summary.params / 1e6).toFixed(1)}M-parameter dense baseline: the same architecture, data, tokenizer and recipe as the
shipped MoD model, with every block running for every token, trained at the same training FLOPs. It exists to measure what
MoD gains (docs/reports); the extension does not use it.`}

## Data
- Corpus (\`training/corpus-manifest.json\`, rebuilt exactly by \`node out/src/corpus/build.js --pin training/corpus-hashes.txt\`):
  ${(corpus.totalBytes / 1e6).toFixed(1)} MB of permissively licensed source from ${corpus.sources.length} listed sources
  (Python ${(corpus.bytesByLang.python / 1e6).toFixed(1)} MB, JavaScript ${(corpus.bytesByLang.javascript / 1e6).toFixed(1)} MB, TypeScript ${(corpus.bytesByLang.typescript / 1e6).toFixed(1)} MB;
  JS/TS share ${pct(corpus.jsTsShare)}), ${corpus.files.train} training files, ${corpus.files.val} validation files, ${corpus.files.heldout} held out; minified, generated,
  vendored, duplicate and non-permissive files dropped.
- Tokenizer: byte-level BPE, vocabulary ${a.vocab_size}${vocab ? ` chosen by measured cost per byte of code:\n${vocab.candidates.map((c: { vocab: number; bytesPerToken: number; flopsPerByte: number }) => `  - ${c.vocab}: ${c.bytesPerToken} bytes/token, ${(c.flopsPerByte / 1e6).toFixed(2)} MFLOP per byte`).join('\n')}` : ''}
- Special tokens: \`<|endoftext|>\` 0, \`<|fim_prefix|>\` 1, \`<|fim_middle|>\` 2, \`<|fim_suffix|>\` 3, \`<|file_sep|>\` 4. Every sample starts with
  \`<|file_sep|>path\\n\`. Half of the training chunks are FIM samples, half of those prefix-suffix-middle and half suffix-prefix-middle
  (the engine prompts with SPM so typing at the cursor only appends tokens). Training shard: ${(meta.train.tokens / 1e6).toFixed(1)}M tokens.

## Architecture
d_model ${a.d_model}, ${a.n_layer} blocks, ${a.n_head} heads of ${a.head_dim}, MLP ×${a.mlp_mult} (SiLU), RMSNorm, RoPE, tied embeddings,
trained context ${a.seq_len}. ${routed ? `Routed blocks: ${a.routed_blocks.join(', ')} (every other block), expert-choice top-k at capacity ${a.capacity}
in training, output scaled by sigmoid(router); a causal predictor (MLP ${a.d_model}→${a.predictor_hidden}→1, stop-gradient input, BCE
against top-k membership) decides per token at inference. Forward FLOPs per token at ${a.seq_len} tokens:
${(summary.forward_flops_per_token / 1e6).toFixed(2)}M with routing vs ${(summary.forward_flops_per_token_every_block_on / 1e6).toFixed(2)}M with every block on.` : `No routing: every block runs for every token.
Forward FLOPs per token at ${a.seq_len} tokens: ${(summary.forward_flops_per_token / 1e6).toFixed(2)}M.`}

## Training
${(summary.tokens / 1e6).toFixed(2)}M tokens seen in ${summary.step} steps of ${manifest.training.batchTokens} tokens, ${(summary.elapsed / 60).toFixed(0)} minutes
on the ${manifest.training.device}, ${(summary.train_flops / 1e15).toFixed(2)} PFLOP; AdamW, lr ${config.args.lr} with warm-up and cosine decay to 10%.

## Quality (validation split, never trained on)
| measure | value |
|---|---|
${routed ? row('bits/byte, training routing (top-k, PyTorch)', f3(fin.val_bpb_topk)) + row('bits/byte, predictor routing (causal, PyTorch)', f3(fin.val_bpb_predictor)) : row('bits/byte (PyTorch)', f3(fin.val_bpb_topk))}${
  q.float ? row(`bits/byte, ONNX float${routed ? ', predictor routing (threshold 0.5)' : ''}`, f3(q.float.bitsPerByte)) : ''}${
  q.q4 ? row(`bits/byte, ONNX 4-bit${routed ? ', predictor routing (threshold 0.5)' : ''}`, `${f3(q.q4.bitsPerByte)}${quantDelta === undefined ? '' : ` (${quantDelta >= 0 ? '+' : ''}${(100 * quantDelta).toFixed(2)}% vs float)`}`) : ''}${
  routed ? row(`bits/byte, ONNX ${q.float ? 'float' : '4-bit'}, every block on`, f3(q.allOn.bitsPerByte)) +
    row('predictor accuracy / precision / recall vs top-k', `${pct(fin.pred_acc)} / ${pct(fin.pred_precision)} / ${pct(fin.pred_recall)}`) +
    row('fraction of tokens routed blocks run for (predictor, engine)', `${pct(manifest.quality.routedFraction)} (per block in PyTorch: ${Object.entries(fin.pred_routed_frac_by_layer).map(([k, v]) => `${k}: ${pct(v as number)}`).join(', ')})`) : ''}
ONNX figures: \`mod-complete bpb\` over ${q.allOn.tokens} validation tokens (${windows} windows of ${a.seq_len}); PyTorch figures over ${Math.round(config.args.final_eval_tokens / 1000)}k tokens.

## Files
| part | file | size | sha256 |
|---|---|---|---|
${files}
${manifest.files.q4 ? `
4-bit: MatMulNBits (block 32, asymmetric, accuracy level ${manifest.quantization?.q4?.accuracy_level ?? 0}) for every projection and the LM head;
embedding, norms, routers and predictors stay float (a flipped routing decision changes which blocks run).
` : ''}
## Limits
A small model trained for ${(summary.elapsed / 60).toFixed(0)} CPU minutes: it completes common idioms and local patterns, not whole programs.
It has seen Python, JavaScript and TypeScript only; its context is ${a.seq_len} tokens.
`;
  fs.writeFileSync(path.join(modelDir, 'MODEL_CARD.md'), card + measured(arg('--bench', ''), arg('--eval', '')));
  console.log(card);
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
