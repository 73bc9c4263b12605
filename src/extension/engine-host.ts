// Owns the engine worker for the extension: loads the model in the background with progress,
// reloads it when the model path or provider changes, and tracks the state the status bar shows.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { EngineClient } from '../engine/client';
import type { EngineInfo } from '../engine/engine';
import { DEFAULT_MODEL_NAME } from '../engine/paths';
import type { ExtensionStatus } from './api';
import { readSettings } from './config';

export class EngineHost implements vscode.Disposable {
  client: EngineClient | undefined;
  info: EngineInfo | undefined;
  status: ExtensionStatus = 'loading';
  error: string | undefined;
  private loading: Promise<void> = Promise.resolve();
  private busy = 0;
  /** A Generate Code request is running: inline requests wait rather than cancel it (newest wins otherwise). */
  generationInFlight = false;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly extensionPath: string, private readonly log: vscode.LogOutputChannel) {}

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
    await this.client?.dispose();
    this.client = undefined;
    this.info = undefined;
    this.set('loading');
    const s = readSettings();
    const modelDir = this.modelDir();
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'MoD Complete: loading model' },
      async (progress) => {
        try {
          progress.report({ message: path.basename(modelDir) });
          const client = new EngineClient(path.join(this.extensionPath, 'dist', 'worker.js'));
          const info = await client.load({ modelDir, provider: s.provider, precision: 'q4', threads: 1 });
          this.client = client;
          this.info = info;
          for (const a of info.attempts) this.log.info(`provider ${a.provider}: ${a.ok ? 'loaded' : 'passed over: ' + a.reason} (${a.ms.toFixed(0)} ms)`);
          this.log.info(`model ${info.model} (${info.precision}) ready on ${info.provider} in ${info.loadMs.toFixed(0)} ms`);
          this.set(readSettings().enable ? 'ready' : 'disabled');
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          this.log.error(`model load failed: ${msg}`);
          this.set('error', msg);
          void this.offerFix(msg);
        }
      },
    );
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
    void this.client?.dispose();
    this.changed.dispose();
  }
}
