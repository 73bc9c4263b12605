// Bundles the CLI, the engine worker and the VS Code extension with esbuild. Native packages
// (onnxruntime-node, tokenizers) stay external: their .node binaries are loaded from node_modules.
import { build } from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../../..');
const external = ['onnxruntime-node', 'tokenizers', 'vscode'];

async function main(): Promise<void> {
  const entries: [string, string][] = [
    ['src/cli/main.ts', 'dist/cli.js'],
    ['src/engine/worker.ts', 'dist/worker.js'],
  ];
  if (fs.existsSync(path.join(root, 'src/extension/extension.ts'))) entries.push(['src/extension/extension.ts', 'dist/extension.js']);
  await Promise.all(entries.map(([entry, out]) => build({
    entryPoints: [path.join(root, entry)],
    outfile: path.join(root, out),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    external,
    banner: out === 'dist/cli.js' ? { js: '#!/usr/bin/env node' } : undefined,
    logLevel: 'warning',
  })));
  fs.chmodSync(path.join(root, 'dist/cli.js'), 0o755);
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
