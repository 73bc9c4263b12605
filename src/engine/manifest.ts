// The model package: manifest.json beside the ONNX files and the tokenizer, as written by
// training/export.py. Loading validates it so a missing, truncated or foreign model gives a
// clear message instead of a crash deep inside onnxruntime.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineError } from './errors';
import { blockIo, BlockIoKind, GRAPH_INPUTS, GRAPH_LOGITS } from './graph-io';
import { PROMPT_OVERHEAD } from './prompt';

export const SUPPORTED_FORMAT_VERSION = 1;

export interface Architecture {
  vocab_size: number;
  d_model: number;
  n_layer: number;
  n_head: number;
  head_dim: number;
  mlp_mult: number;
  seq_len: number;
  capacity: number;
  predictor_hidden: number;
  routed_blocks: number[];
}

export interface FlopsTable {
  block_per_token: number;
  attention_per_key: number;
  lm_head_per_token: number;
  predictor_per_token: number;
  router_per_token: number;
}

export interface ModelFile { path: string; sha256: string; bytes: number }

export interface Manifest {
  format: string;
  formatVersion: number;
  name: string;
  architecture: Architecture;
  specialTokens: Record<string, number>;
  defaultThreshold: number;
  flops: FlopsTable;
  files: Record<string, ModelFile>;
  training?: Record<string, unknown>;
  quality?: Record<string, unknown>;
}

export const PRECISIONS = ['q4', 'float'] as const;
export type Precision = (typeof PRECISIONS)[number];

export interface ModelPackage { dir: string; manifest: Manifest; onnxPath: string; precision: Precision; tokenizerPath: string }

function fileOf(m: Manifest, dir: string, key: string): string {
  const f = m.files[key];
  if (!f) throw new EngineError('model-corrupt', `The model in ${dir} lists no "${key}" file in manifest.json.`);
  const p = path.join(dir, f.path);
  if (!fs.existsSync(p)) throw new EngineError('model-missing', `The model file ${p} is missing. Reinstall the extension or point modComplete.modelPath at a complete model folder.`);
  const size = fs.statSync(p).size;
  if (size !== f.bytes) {
    throw new EngineError('model-corrupt', `The model file ${p} is ${size} bytes but the manifest expects ${f.bytes}: it is truncated or replaced. Reinstall the model.`);
  }
  return p;
}

/** Full hash check: slower (reads every byte), used by `mod-complete verify` and on demand. */
export function verifyHashes(pkg: ModelPackage): void {
  for (const [key, f] of Object.entries(pkg.manifest.files)) {
    const p = path.join(pkg.dir, f.path);
    const h = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    if (h !== f.sha256) throw new EngineError('model-corrupt', `The model file ${p} (${key}) does not match its manifest hash: it is corrupt. Reinstall the model.`);
  }
}

/** Reads the manifest; a file this user may not read is named as such, not as bad JSON. */
function readManifest(mpath: string): Manifest {
  let text: string;
  try {
    text = fs.readFileSync(mpath, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EACCES' || err.code === 'EPERM') {
      throw new EngineError('model-missing', `Permission denied reading the model manifest ${mpath}: this user may not read it. Fix the permissions of the file and its folder, or set modComplete.modelPath to a readable model folder.`);
    }
    throw new EngineError('model-missing', `The model manifest ${mpath} cannot be read (${err.message}).`);
  }
  try {
    return JSON.parse(text) as Manifest;
  } catch (e) {
    throw new EngineError('model-corrupt', `The model manifest ${mpath} is not valid JSON (${(e as Error).message}).`);
  }
}

export const MIN_SEQ_LEN = PROMPT_OVERHEAD + 2;

const SIZE_FIELDS = ['vocab_size', 'd_model', 'n_layer', 'n_head', 'head_dim', 'seq_len'] as const;

/** The types the engine relies on: a hand-edited manifest would otherwise fail far from the cause. */
function checkArchitectureFields(a: Architecture | undefined, mpath: string): void {
  const bad = (field: string, value: unknown, want: string) => new EngineError('model-corrupt',
    `${mpath}: ${field} ${value === undefined ? 'is missing' : `is ${JSON.stringify(value)}`}; it must be ${want}.`);
  if (typeof a !== 'object' || a === null) throw bad('architecture', a, 'an object');
  for (const k of SIZE_FIELDS) if (!Number.isInteger(a[k]) || a[k] <= 0) throw bad(`architecture.${k}`, a[k], 'a positive integer');
  // A smaller window cannot hold a prompt's fixed tokens plus one token each of context and completion.
  if (a.seq_len < MIN_SEQ_LEN) throw bad('architecture.seq_len', a.seq_len, `at least ${MIN_SEQ_LEN}`);
  const blocks: unknown = a.routed_blocks;
  if (!Array.isArray(blocks) || !blocks.every((b) => Number.isInteger(b) && b >= 0 && b < a.n_layer)) {
    throw bad('architecture.routed_blocks', blocks, `a list of block indices below architecture.n_layer (${a.n_layer})`);
  }
}

export function loadModelPackage(dir: string, precision: Precision = 'q4'): ModelPackage {
  const mpath = path.join(dir, 'manifest.json');
  if (!fs.existsSync(mpath)) {
    throw new EngineError('model-missing', `No model found at ${dir} (manifest.json is missing). Reinstall the extension or set modComplete.modelPath to a model folder.`);
  }
  const m = readManifest(mpath);
  if (m.format !== 'mod-complete-model') throw new EngineError('model-version', `${mpath} is not a MoD Complete model manifest.`);
  if (typeof m.formatVersion !== 'number') {
    throw new EngineError('model-corrupt', `${mpath}: formatVersion is ${JSON.stringify(m.formatVersion)} (${typeof m.formatVersion}); it must be a number (this version of MoD Complete reads format version ${SUPPORTED_FORMAT_VERSION}).`);
  }
  if (m.formatVersion !== SUPPORTED_FORMAT_VERSION) {
    throw new EngineError('model-version', `The model in ${dir} has format version ${m.formatVersion}; this version of MoD Complete reads version ${SUPPORTED_FORMAT_VERSION}. Update the extension or the model.`);
  }
  checkArchitectureFields(m.architecture, mpath);
  // A package may carry one precision only (the baselines ship 4-bit alone): use what is there.
  const chosen: Precision = m.files[precision] ? precision : precision === 'q4' ? 'float' : 'q4';
  return { dir, manifest: m, onnxPath: fileOf(m, dir, chosen), precision: chosen, tokenizerPath: fileOf(m, dir, 'tokenizer') };
}

/** An input or output of the ONNX graph as onnxruntime reports it (a shape only for tensors). */
export interface GraphValue { name: string; shape?: ReadonlyArray<number | string> }

/** Graph inputs every MoD Complete decoding graph has, besides the per-block caches. */
const FIXED_INPUTS = Object.values(GRAPH_INPUTS);

/** Indices i of the per-block names of this kind (`past_k_${i}`...), sorted. */
function indicesOf(names: Iterable<string>, kind: BlockIoKind): number[] {
  const re = new RegExp(`^${blockIo(kind, 0).slice(0, -1)}(\\d+)$`);
  return [...names].flatMap((n) => re.exec(n)?.slice(1).map(Number) ?? []).sort((a, b) => a - b);
}

const sameList = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Cross-checks the manifest against the files as loaded: the graph's inputs and outputs (from the
 * opened onnxruntime session) and the tokenizer's vocabulary size. A mismatch would otherwise give
 * silently wrong output or an error deep inside a run (`input 'past_k_6' is missing`).
 */
export function checkLoadedModel(pkg: ModelPackage, graph: { inputs: readonly GraphValue[]; outputs: readonly GraphValue[] }, tokenizerSize: number): void {
  const arch = pkg.manifest.architecture;
  const mpath = path.join(pkg.dir, 'manifest.json');
  const mismatch = (file: string, field: string, detail: string) => new EngineError('model-corrupt',
    `${file} does not match architecture.${field} in ${mpath}: ${detail}. The model files do not belong together; reinstall the model.`);
  const inputs = new Map(graph.inputs.map((v) => [v.name, v]));
  const outputs = new Map(graph.outputs.map((v) => [v.name, v]));
  const onnx = pkg.onnxPath;
  const missing = [...FIXED_INPUTS.filter((n) => !inputs.has(n)), ...(outputs.has(GRAPH_LOGITS) ? [] : [GRAPH_LOGITS])];
  if (missing.length) {
    throw new EngineError('model-corrupt', `${onnx} is not a MoD Complete decoding graph (no ${missing.join(', ')}). Reinstall the model.`);
  }
  const layers = Array.from({ length: arch.n_layer }, (_, i) => i);
  for (const [where, names, kinds] of [['input', inputs, ['pastK', 'pastV']], ['output', outputs, ['newK', 'newV']]] as const) {
    for (const kind of kinds) {
      const found = indicesOf(names.keys(), kind);
      if (!sameList(found, layers)) {
        const first = layers.find((i) => !found.includes(i));
        const detail = first !== undefined ? `${where} '${blockIo(kind, first)}' is missing` : `${where} '${blockIo(kind, found.find((i) => i >= arch.n_layer)!)}' is not in the manifest`;
        throw mismatch(onnx, 'n_layer', `the manifest says ${arch.n_layer} blocks, the graph has ${found.length} (${detail})`);
      }
    }
  }
  const routed = [...arch.routed_blocks].sort((a, b) => a - b);
  for (const [where, names, kind] of [['input', inputs, 'pastMask'], ['output', outputs, 'routeProb']] as const) {
    const found = indicesOf(names.keys(), kind);
    if (!sameList(found, routed)) {
      throw mismatch(onnx, 'routed_blocks', `the manifest routes blocks [${routed.join(', ')}], the graph has ${blockIo(kind, 0).slice(0, -2)} ${where}s for blocks [${found.join(', ')}]`);
    }
  }
  const logitsWidth = outputs.get(GRAPH_LOGITS)!.shape?.at(-1);
  if (typeof logitsWidth === 'number' && logitsWidth !== arch.vocab_size) {
    throw mismatch(onnx, 'vocab_size', `the manifest says ${arch.vocab_size}, the graph's logits have ${logitsWidth} columns`);
  }
  // A cache input is [n_head, positions, head_dim].
  const [heads, , headDim] = inputs.get(blockIo('pastK', 0))!.shape ?? [];
  if (typeof heads === 'number' && heads !== arch.n_head) throw mismatch(onnx, 'n_head', `the manifest says ${arch.n_head}, the graph's caches have ${heads} heads`);
  if (typeof headDim === 'number' && headDim !== arch.head_dim) throw mismatch(onnx, 'head_dim', `the manifest says ${arch.head_dim}, the graph's caches have ${headDim}`);
  if (tokenizerSize !== arch.vocab_size) {
    throw mismatch(pkg.tokenizerPath, 'vocab_size', `the tokenizer has ${tokenizerSize} tokens, the manifest and the graph ${arch.vocab_size}`);
  }
}
