// The suite's completion marker. An extension host that dies mid-suite (SIGABRT, an OOM kill) still
// makes the workbench report an exit code, 0 included, so the launcher believes the run only when
// the suite itself wrote, as its last act, how many tests ran and failed.
import * as fs from 'node:fs';

/** Where the suite writes its marker: set by the launcher, inherited by code-server and its extension host. */
export const MARKER_ENV = 'MOD_VSCODE_SUITE_MARKER';

export interface SuiteOutcome {
  tests: number;
  passes: number;
  failures: number;
}

export function writeOutcome(outcome: SuiteOutcome): void {
  const file = process.env[MARKER_ENV];
  if (!file) throw new Error(`${MARKER_ENV} is not set: the launcher could not tell this run from a crashed one`);
  fs.writeFileSync(file, JSON.stringify(outcome));
}

/** The run's exit code: the host's, unless the marker is missing, unreadable, or counts failures or no tests. */
export function verdict(hostCode: number, markerFile: string): { code: number; problem?: string } {
  let o: SuiteOutcome;
  try {
    o = JSON.parse(fs.readFileSync(markerFile, 'utf8')) as SuiteOutcome;
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : `is unreadable (${(e as Error).message})`;
    return { code: 1, problem: `the suite's completion marker ${why}: the extension host ended before the suite finished (it crashed?)` };
  }
  if (o.failures > 0) return { code: 1, problem: `${o.failures} of ${o.tests} extension test(s) failed` };
  if (!(o.tests > 0)) return { code: 1, problem: 'the suite ran no tests' };
  return hostCode === 0 ? { code: 0 } : { code: hostCode, problem: `the extension host reported exit code ${hostCode} although every test passed` };
}
