#!/usr/bin/env node
// A stand-in for the `code` executable that @vscode/test-electron's runTests() spawns: it takes
// the same arguments, runs the extension tests in code-server's Node extension host (opened by a
// headless chromium) and exits with the tests' exit code.
//
// Why the URL: code-server refuses --extensionDevelopmentPath on its command line, but its web
// workbench reads the development and test paths from the `payload` query parameter and, when the
// tests finish, calls window.codeAutomationExit(code), which we expose to the page. It calls it
// too when the extension host dies, with 0 at times: only the suite's marker proves it finished.
import * as path from 'node:path';
import { format } from 'node:util';
import { launchBrowser, removeRunDir, runDir, startCodeServer, tail, writeWorkspace } from './code-server';
import { MARKER_ENV, verdict } from './marker';

interface LaunchArgs {
  testsPath?: string;
  developmentPaths: string[];
  userDataDir?: string;
  extensionsDir?: string;
  folder?: string;
}

/** The options that matter here; Electron-only flags (--no-sandbox, --disable-gpu-sandbox, ...) are ignored. */
function parseArgs(argv: string[]): LaunchArgs {
  const out: LaunchArgs = { developmentPaths: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      out.folder = path.resolve(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const takesValue = ['extensionTestsPath', 'extensionDevelopmentPath', 'user-data-dir', 'extensions-dir'].includes(name);
    if (!takesValue) continue;
    const value = path.resolve(eq < 0 ? argv[++i] : arg.slice(eq + 1));
    if (name === 'extensionTestsPath') out.testsPath = value;
    else if (name === 'extensionDevelopmentPath') out.developmentPaths.push(value);
    else if (name === 'user-data-dir') out.userDataDir = value;
    else out.extensionsDir = value;
  }
  return out;
}

/**
 * VS Code's own log lines, which include everything the extension host prints (the mocha report,
 * the extension's console output), reach the page console as ('%c LEVEL', style, format, ...args).
 * Print those formatted; the browser's own messages only when MOD_VSCODE_VERBOSE is set.
 */
function formatConsole(values: unknown[], text: string): string | undefined {
  const level = typeof values[0] === 'string' ? /^%c\s*([A-Z]+)$/.exec(values[0]) : null;
  if (!level) return process.env.MOD_VSCODE_VERBOSE ? `[browser] ${text}` : undefined;
  const line = format(...values.slice(2));
  return level[1] === 'INFO' ? line : `[${level[1]}] ${line}`;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (!args.testsPath || args.developmentPaths.length === 0) {
    console.error('launcher: --extensionTestsPath and --extensionDevelopmentPath are required');
    return 2;
  }
  const timeoutMs = Number(process.env.MOD_VSCODE_TEST_TIMEOUT_MS ?? 20 * 60_000);
  const dir = runDir('mod-vscode-tests-');
  const profile = {
    userDataDir: args.userDataDir ?? path.join(dir, 'user-data'),
    extensionsDir: args.extensionsDir ?? path.join(dir, 'extensions'),
  };
  const folder = args.folder ?? writeWorkspace(path.join(dir, 'workspace'));
  const marker = path.join(dir, 'suite-outcome.json');
  // Before code-server starts: its environment, and its extension host's, is copied from ours.
  process.env[MARKER_ENV] = marker;

  const server = await startCodeServer(profile, dir);
  const browser = await launchBrowser();

  try {
    const page = await browser.newPage();
    let finish: (code: number) => void = () => undefined;
    const exitCode = new Promise<number>((resolve, reject) => {
      finish = resolve;
      page.on('crash', () => reject(new Error('the workbench page crashed')));
      setTimeout(() => reject(new Error(`the tests did not finish within ${timeoutMs / 1000} s`)), timeoutMs).unref();
    });
    // Before navigating: the workbench looks the hook up when the tests end.
    await page.exposeFunction('codeAutomationExit', (code: number) => finish(code));
    // Argument values are fetched asynchronously; the chain keeps the lines in order.
    let printed = Promise.resolve();
    page.on('console', (msg) => {
      const values = Promise.all(msg.args().map((a) => a.jsonValue().catch(() => '?')));
      printed = printed.then(async () => {
        const line = formatConsole(await values, msg.text());
        if (line !== undefined) console.log(line);
      });
    });
    page.on('pageerror', (err) => console.error(`[page error] ${err.message}`));
    const remote = (p: string): string => `vscode-remote://${new URL(server.origin).host}${p}`;
    const payload: [string, string][] = [
      ...args.developmentPaths.map((p): [string, string] => ['extensionDevelopmentPath', remote(p)]),
      ['extensionTestsPath', remote(args.testsPath)],
    ];
    await page.goto(server.url(folder, payload));
    const code = await exitCode;
    await printed;
    const v = verdict(code, marker);
    if (v.problem) console.error(`launcher: ${v.problem}. code-server's log ends:\n${tail(path.join(dir, 'code-server.log'), 15)}`);
    return v.code;
  } finally {
    await browser.close().catch(() => undefined);
    await server.stop();
    removeRunDir(dir);
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
