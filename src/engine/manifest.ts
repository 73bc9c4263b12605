// The model package: manifest.json beside the ONNX files and the tokenizer, as written by
// training/export.py. Loading validates it so a missing, truncated or foreign model gives a
// clear message instead of a crash deep inside onnxruntime.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineError } from './errors';

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

export type Precision = 'q4' | 'float';

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

export function loadModelPackage(dir: string, precision: Precision = 'q4'): ModelPackage {
  const mpath = path.join(dir, 'manifest.json');
  if (!fs.existsSync(mpath)) {
    throw new EngineError('model-missing', `No model found at ${dir} (manifest.json is missing). Reinstall the extension or set modComplete.modelPath to a model folder.`);
  }
  let m: Manifest;
  try {
    m = JSON.parse(fs.readFileSync(mpath, 'utf8')) as Manifest;
  } catch (e) {
    throw new EngineError('model-corrupt', `The model manifest ${mpath} is not valid JSON (${(e as Error).message}).`);
  }
  if (m.format !== 'mod-complete-model') throw new EngineError('model-version', `${mpath} is not a MoD Complete model manifest.`);
  if (m.formatVersion !== SUPPORTED_FORMAT_VERSION) {
    throw new EngineError('model-version', `The model in ${dir} has format version ${m.formatVersion}; this version of MoD Complete reads version ${SUPPORTED_FORMAT_VERSION}. Update the extension or the model.`);
  }
  // A package may carry one precision only (the baselines ship 4-bit alone): use what is there.
  const chosen: Precision = m.files[precision] ? precision : precision === 'q4' ? 'float' : 'q4';
  return { dir, manifest: m, onnxPath: fileOf(m, dir, chosen), precision: chosen, tokenizerPath: fileOf(m, dir, 'tokenizer') };
}
