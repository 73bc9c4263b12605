// Real VS Code for the tests: code-server (VS Code's server and web workbench, installed by
// .ci/deps into .vscode-test/code-server) driven by Debian's chromium through playwright-core.
// No desktop VS Code can be downloaded here, so this is what both the mocha suite (through the
// launcher) and the UI test run against.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const ROOT = path.resolve(__dirname, '../../..');
export const CODE_SERVER = process.env.MOD_CODE_SERVER ?? path.join(ROOT, '.vscode-test/code-server/node_modules/.bin/code-server');
const CHROMIUM = process.env.MOD_CHROMIUM ?? '/usr/bin/chromium';

/** A fresh folder for one run's state; kept after the run when MOD_KEEP_RUN_DIR is set, for post-mortems. */
export function runDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeRunDir(dir: string): void {
  if (process.env.MOD_KEEP_RUN_DIR) console.log(`run folder kept: ${dir}`);
  else fs.rmSync(dir, { recursive: true, force: true });
}

/** A small workspace with TypeScript and Python files for the extension to complete in. */
export function writeWorkspace(dir: string): string {
  const files: Record<string, string> = {
    'src/math.ts': [
      'export function add(a: number, b: number): number {',
      '  return a + b;',
      '}',
      '',
      'export function multiply(a: number, b: number): number {',
      '  return a * b;',
      '}',
      '',
    ].join('\n'),
    'src/list.ts': [
      'export function sum(values: number[]): number {',
      '  let total = 0;',
      '  for (const v of values) {',
      '    total += v;',
      '  }',
      '  return total;',
      '}',
      '',
    ].join('\n'),
    'src/empty.ts': '',
    // The key-to-ghost-text trials type new lines at its end.
    'src/shapes.ts': [
      'export interface Point {',
      '  x: number;',
      '  y: number;',
      '}',
      '',
      'export function distance(a: Point, b: Point): number {',
      '  const dx = a.x - b.x;',
      '  const dy = a.y - b.y;',
      '  return Math.sqrt(dx * dx + dy * dy);',
      '}',
      '',
      'export function midpoint(a: Point, b: Point): Point {',
      '  return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };',
      '}',
      '',
    ].join('\n'),
    'tools/stats.py': [
      'def mean(values):',
      '    return sum(values) / len(values)',
      '',
      '',
      'def variance(values):',
      '    m = mean(values)',
      '    return sum((v - m) ** 2 for v in values) / len(values)',
      '',
    ].join('\n'),
    'tools/scratch.py': '',
    'notes.txt': 'Notes\n',
  };
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * code-server's environment: its own XDG and temp folders (it writes config and IPC sockets there),
 * no $PORT (it would override --bind-addr), no VS Code variables from a surrounding editor, and no
 * extension gallery (tests need none, and its lookups fail noisily on an offline machine).
 */
function isolatedEnv(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.PORT;
  env.EXTENSIONS_GALLERY = '{}';
  for (const k of Object.keys(env)) if (k.startsWith('VSCODE_') || k === 'ELECTRON_RUN_AS_NODE') delete env[k];
  for (const [k, sub] of [['XDG_CONFIG_HOME', 'config'], ['XDG_DATA_HOME', 'data'], ['TMPDIR', 'tmp']] as const) {
    env[k] = path.join(dir, sub);
    fs.mkdirSync(env[k]!, { recursive: true });
  }
  return env;
}

export interface Profile {
  userDataDir: string;
  extensionsDir: string;
}

/** `code-server --install-extension` into the profile: the way a user installs a downloaded .vsix. */
export function installVsix(vsix: string, profile: Profile, dir: string): void {
  execFileSync(CODE_SERVER, ['--user-data-dir', profile.userDataDir, '--extensions-dir', profile.extensionsDir, '--install-extension', vsix], {
    env: isolatedEnv(dir),
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 120_000,
  });
}

export interface CodeServer {
  origin: string;
  /** The workbench URL for a folder; `payload` carries workbench options such as extension test paths. */
  url(folder: string, payload?: [string, string][]): string;
  stop(): Promise<void>;
}

export function tail(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Starts code-server on a free loopback port and waits until /healthz answers. */
export async function startCodeServer(profile: Profile, dir: string): Promise<CodeServer> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const log = path.join(dir, 'code-server.log');
  const out = fs.openSync(log, 'a');
  const args = [
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--user-data-dir', profile.userDataDir,
    '--extensions-dir', profile.extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--ignore-last-opened',
  ];
  // detached: its own process group, so stop() can end the extension host and the other helpers
  // it starts; they outlive the browser otherwise.
  const child: ChildProcess = spawn(CODE_SERVER, args, { env: isolatedEnv(dir), detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));
  const signalGroup = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // the group is already gone
    }
  };
  // Should this process end without stop() (Ctrl+C, a crash, a closed stdout), the detached group
  // would live on: take it along. Signals become a normal exit so that this handler runs.
  const killOnExit = (): void => signalGroup('SIGKILL');
  process.once('exit', killOnExit);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    if (process.listenerCount(sig) === 0) process.once(sig, () => process.exit(130));
  }

  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (exited || child.pid === undefined) return;
    signalGroup('SIGTERM');
    await Promise.race([exit, new Promise((r) => setTimeout(r, 5000))]);
    signalGroup('SIGKILL');
  };

  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exited) throw new Error(`code-server exited during start-up; its log:\n${tail(log)}`);
    try {
      if ((await fetch(`${origin}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not answer ${origin}/healthz within 90 s; its log:\n${tail(log)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }

  return {
    origin,
    url: (folder, payload) => {
      const q = new URLSearchParams({ folder });
      if (payload) q.set('payload', JSON.stringify(payload));
      return `${origin}/?${q.toString()}`;
    },
    stop,
  };
}

/** Headless Debian chromium; the flags keep it off the (closed) network and out of the sandbox root refuses. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
