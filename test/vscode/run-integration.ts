// Runs the mocha suite in test/vscode/suite/ inside a real VS Code extension host through the
// unmodified @vscode/test-electron API; the "VS Code executable" is our code-server launcher,
// because no desktop VS Code can be downloaded on these machines.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { ROOT, removeRunDir, runDir, writeWorkspace } from './code-server';

async function main(): Promise<void> {
  const launcher = path.join(__dirname, 'launcher.js');
  // tsc does not keep the executable bit; test-electron spawns the file directly.
  fs.chmodSync(launcher, 0o755);
  const dir = runDir('mod-integration-');
  try {
    await runTests({
      vscodeExecutablePath: launcher,
      // MOD_EXTENSION_PATH: run the suite against another build of the extension (e.g. an unpacked .vsix).
      extensionDevelopmentPath: process.env.MOD_EXTENSION_PATH ?? ROOT,
      extensionTestsPath: path.join(__dirname, 'suite', 'index.js'),
      // A fresh profile per run: no settings or state left over from an earlier run.
      launchArgs: [writeWorkspace(path.join(dir, 'workspace')), `--user-data-dir=${path.join(dir, 'user-data')}`, `--extensions-dir=${path.join(dir, 'extensions')}`],
    });
  } finally {
    removeRunDir(dir);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
