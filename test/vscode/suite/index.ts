// Entry point VS Code loads into the extension host (`extensionTestsPath`): runs every compiled
// suite file beside this one with mocha and rejects when a test failed, which becomes exit code 1.
// Its last act is the completion marker (../marker.ts) the launcher requires.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';
import { writeOutcome } from '../marker';

export async function run(): Promise<void> {
  // No colours: the output travels through the browser console to the launcher's stdout.
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 180_000 });
  for (const f of fs.readdirSync(__dirname).filter((f) => f.endsWith('.js') && f !== 'index.js').sort()) {
    mocha.addFile(path.join(__dirname, f));
  }
  let runner: Mocha.Runner | undefined;
  const failures = await new Promise<number>((resolve) => (runner = mocha.run(resolve)));
  const stats = runner!.stats!;
  writeOutcome({ tests: stats.tests, passes: stats.passes, failures: stats.failures });
  if (failures > 0) throw new Error(`${failures} extension test(s) failed`);
}
