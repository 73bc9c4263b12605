// Owns the engine worker for the extension: loads the model in the background with progress,
// reloads it when the model path or provider changes (the old worker shut down gracefully first),
// restarts a crashed worker (EngineSupervisor), and tracks the state the status bar shows.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EngineClient } from '../engine/client';
import type { EngineInfo } from '../engine/engine';
import type { EngineError } from '../engine/errors';
import { DEFAULT_MODEL_NAME } from '../engine/paths';
import { EngineSupervisor } from '../engine/supervisor';
import type { ExtensionStatus } from './api';
import { readSettings } from './config';

export class EngineHost implements vscode.Disposable {
  private engine: EngineSupervisor | undefined;
  info: EngineInfo | undefined;
  status: ExtensionStatus = 'loading';
  error: string | undefined;
  /** The crash the engine last recovered from, for the status bar. */
  recovered: { error: string; at: Date } | undefined;
  private loading: Promise<void> = Promise.resolve();
  private busy = 0;
  /** A Generate Code request is running: inline requests wait rather than cancel it (newest wins otherwise). */
  generationInFlight = false;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly restarted = new vscode.EventEmitter<void>();
  /** A crashed worker was replaced by a new one, which holds no documents yet. */
  readonly onDidRestart = this.restarted.event;

  constructor(private readonly extensionPath: string, private readonly log: vscode.LogOutputChannel) {}

  /** The worker with the model loaded; undefined while loading or restarting. */
  get client(): EngineClient | undefined {
    return this.engine?.client;
  }

  modelDir(): string {
    const configured = readSettings().modelPath.trim();
    return configured || path.join(this.extensionPath, 'models', DEFAULT_MODEL_NAME);
  }

  whenLoaded(): Promise<void> {
    return this.loading;
  }

  private set(status: ExtensionStatus, error?: string): void {
    this.status = status;
    this.error = error;
    this.changed.fire();
  }

  /** (Re)loads the model. Errors end in the 'error' state with a message and actions, never a throw. */
  load(): Promise<void> {
    this.loading = this.loading.then(() => this.doLoad());
    return this.loading;
  }

  private async doLoad(): Promise<void> {
    await this.stopEngine();
    this.info = undefined;
    this.recovered = undefined;
    this.set('loading');
    const s = readSettings();
    const modelDir = this.modelDir();
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'MoD Complete: loading model' },
      async (progress) => {
        try {
          progress.report({ message: path.basename(modelDir) });
          const engine = new EngineSupervisor({ modelDir, provider: s.provider, precision: 'q4', threads: 1 }, {
            crashed: (e, retryInMs) => this.crashed(e, retryInMs),
            restarted: (info) => this.restartedWith(info),
            gaveUp: (e) => this.fail('engine worker', e.message),
          }, path.join(this.extensionPath, 'dist', 'worker.js'));
          const info = await engine.start();
          this.engine = engine;
          this.info = info;
          for (const a of info.attempts) this.log.info(`provider ${a.provider}: ${a.ok ? 'loaded' : 'passed over: ' + a.reason} (${a.ms.toFixed(0)} ms)`);
          this.log.info(`model ${info.model} (${info.precision}) ready on ${info.provider} in ${info.loadMs.toFixed(0)} ms`);
          this.set(readSettings().enable ? 'ready' : 'disabled');
        } catch (e) {
          this.fail('model load', e instanceof Error ? e.message : String(e));
        }
      },
    );
  }

  private fail(what: string, msg: string): void {
    this.log.error(`${what} failed: ${msg}`);
    this.set('error', msg);
    void this.offerFix(msg);
  }

  private crashed(e: EngineError, retryInMs: number): void {
    this.log.error(`${e.message} Restarting it in ${retryInMs} ms.`);
    this.set('restarting', e.message);
  }

  private restartedWith(info: EngineInfo): void {
    this.info = info;
    this.recovered = { error: this.error ?? 'unknown error', at: new Date() };
    this.log.info(`engine worker restarted: model ${info.model} ready on ${info.provider} in ${info.loadMs.toFixed(0)} ms`);
    this.set(readSettings().enable ? 'ready' : 'disabled');
    this.restarted.fire();
  }

  /** Shuts the worker down gracefully (see EngineClient.dispose); the host can then exit safely. */
  private async stopEngine(): Promise<void> {
    const engine = this.engine;
    this.engine = undefined;
    await engine?.dispose();
  }

  /** Waits for a load in progress, then shuts its worker down: what deactivate() waits for. */
  async shutdown(): Promise<void> {
    await this.loading;
    await this.stopEngine();
  }

  private async offerFix(msg: string): Promise<void> {
    const exists = fs.existsSync(this.modelDir());
    const choice = await vscode.window.showErrorMessage(`MoD Complete: ${msg}`, exists ? 'Reload Model' : 'Use Bundled Model', 'Open Settings', 'Show Log');
    if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'modComplete.modelPath');
    else if (choice === 'Show Log') this.log.show();
    else if (choice === 'Reload Model') void this.load();
    else if (choice === 'Use Bundled Model') {
      await vscode.workspace.getConfiguration('modComplete').update('modelPath', '', vscode.ConfigurationTarget.Global);
    }
  }

  /** Marks the engine busy while `work` runs, for the status bar's "generating" state. */
  async track<T>(work: Promise<T>): Promise<T> {
    if (this.busy++ === 0 && this.status === 'ready') this.set('generating');
    try {
      return await work;
    } finally {
      if (--this.busy === 0 && this.status === 'generating') this.set('ready');
    }
  }

  setEnabled(enabled: boolean): void {
    if (this.status === 'ready' || this.status === 'generating' || this.status === 'disabled') this.set(enabled ? 'ready' : 'disabled');
  }

  dispose(): void {
    void this.shutdown();
    this.changed.dispose();
    this.restarted.dispose();
  }
}
