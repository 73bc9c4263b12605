import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const PYTHON = process.env.MOD_PYTHON ?? '/usr/bin/python3';
export const SHIPPED_MODEL = path.join(ROOT, 'models', 'mod-complete-small');

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function python(args: string[]): string {
  return execFileSync(PYTHON, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

/** The softmax of logits, as plain numbers (to check mixed distributions). */
export function softmax(logits: Float32Array): number[] {
  const m = Math.max(...logits);
  const e = [...logits].map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}
