// The VS Code harness fails when the extension host dies mid-suite. The workbench reports an exit
// code even then (0 at times), so the launcher requires the suite's completion marker: checked here
// on the verdict rule, and end to end on a real extension host that aborts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ROOT, tmpDir } from './helpers';
import { CODE_SERVER } from './vscode/code-server';
import { verdict } from './vscode/marker';

function marker(outcome: object | string): string {
  const file = path.join(tmpDir('mod-marker-'), 'suite-outcome.json');
  fs.writeFileSync(file, typeof outcome === 'string' ? outcome : JSON.stringify(outcome));
  return file;
}

test('the verdict: exit 0 counts only with a marker of a suite that ran tests and had no failures', () => {
  const missing = verdict(0, path.join(tmpDir('mod-marker-'), 'suite-outcome.json'));
  assert.equal(missing.code, 1);
  assert.match(missing.problem!, /marker is missing: the extension host ended before the suite finished/);
  assert.equal(verdict(0, marker('{"tests": 3')).code, 1);
  assert.equal(verdict(0, marker({ tests: 8, passes: 6, failures: 2 })).code, 1);
  assert.equal(verdict(0, marker({ tests: 0, passes: 0, failures: 0 })).code, 1);
  assert.deepEqual(verdict(3, marker({ tests: 8, passes: 8, failures: 0 })).code, 3);
  assert.deepEqual(verdict(0, marker({ tests: 8, passes: 8, failures: 0 })), { code: 0 });
});

test('the launcher fails when the extension host aborts mid-suite', { skip: !fs.existsSync(CODE_SERVER) && 'no code-server (run bash .ci/deps)', timeout: 300_000 }, () => {
  const r = spawnSync(process.execPath, [
    path.join(__dirname, 'vscode/launcher.js'),
    `--extensionDevelopmentPath=${ROOT}`,
    `--extensionTestsPath=${path.join(__dirname, 'vscode/dying-suite.js')}`,
  ], { cwd: ROOT, encoding: 'utf8', timeout: 240_000, env: { ...process.env, MOD_VSCODE_TEST_TIMEOUT_MS: '120000' } });
  assert.notEqual(r.status, 0, `the launcher exited ${r.status} for a dead extension host:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, /completion marker is missing/, r.stderr);
});
