import * as fs from 'node:fs';
import * as path from 'node:path';

/** The project root (where package.json names mod-complete), from bundled or compiled code alike. */
export function packageRoot(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj) && JSON.parse(fs.readFileSync(pj, 'utf8')).name === 'mod-complete') return dir;
    if (path.dirname(dir) === dir) throw new Error(`mod-complete's package.json not found above ${from}`);
  }
}

export const DEFAULT_MODEL_NAME = 'mod-complete-small';

export function defaultModelDir(): string {
  return path.join(packageRoot(), 'models', DEFAULT_MODEL_NAME);
}
