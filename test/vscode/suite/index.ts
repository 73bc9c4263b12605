// Entry point VS Code loads into the extension host (`extensionTestsPath`): runs every compiled
// suite file beside this one with mocha and rejects when a test failed, which becomes exit code 1.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

export async function run(): Promise<void> {
  // No colours: the output travels through the browser console to the launcher's stdout.
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 180_000 });
  for (const f of fs.readdirSync(__dirname).filter((f) => f.endsWith('.js') && f !== 'index.js').sort()) {
    mocha.addFile(path.join(__dirname, f));
  }
  const failures = await new Promise<number>((resolve) => mocha.run(resolve));
  if (failures > 0) throw new Error(`${failures} extension test(s) failed`);
}
