// MoD Complete for VS Code: a thin layer over the engine (src/engine), which runs in a worker
// thread so the extension host never waits on the model.
import '../engine/telemetry'; // first: turns onnxruntime telemetry off before it loads
import * as vscode from 'vscode';
import { COMPUTE_BUDGETS } from '../engine/budgets';
import type { ModCompleteApi } from './api';
import { readSettings, RELOAD_KEYS } from './config';
import { DocumentSync } from './document-sync';
import { EngineHost } from './engine-host';
import { generateCode } from './generate';
import { SuggestionHistory } from './history';
import { InlineProvider } from './inline-provider';
import { ComputePanel } from './panel';
import { StatusBar } from './status-bar';

const PROVIDERS = ['auto', 'cpu', 'cuda', 'webgpu', 'dml', 'coreml'];

async function update(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('modComplete').update(key, value, vscode.ConfigurationTarget.Global);
}

async function pickBudget(): Promise<void> {
  const current = readSettings().computeBudget;
  const pick = await vscode.window.showQuickPick(
    Object.entries(COMPUTE_BUDGETS).map(([label, thr]) => ({
      label,
      description: label === current ? 'current' : '',
      detail: thr < 0 ? 'Every block runs for every token (no MoD savings).' : `Routed blocks run when the predictor's probability exceeds ${thr}.`,
    })),
    { title: 'MoD Complete: compute budget' },
  );
  if (pick) await update('computeBudget', pick.label);
}

let activeHost: EngineHost | undefined;

export function activate(context: vscode.ExtensionContext): ModCompleteApi {
  const log = vscode.window.createOutputChannel('MoD Complete', { log: true });
  const host = new EngineHost(context.extensionPath, log);
  activeHost = host;
  const history = new SuggestionHistory();
  const status = new StatusBar(host, history);
  const panel = new ComputePanel(context.extensionUri, host, history);
  const sync = new DocumentSync(() => host.client, host.onDidRestart);
  const provider = new InlineProvider(host, sync, history, log);

  const menu = async () => {
    const s = readSettings();
    const items: (vscode.QuickPickItem & { run: () => unknown })[] = [
      { label: s.enable ? '$(circle-slash) Disable completions' : '$(zap) Enable completions', run: () => update('enable', !s.enable) },
      { label: `$(dashboard) Compute budget: ${s.computeBudget}`, run: pickBudget },
      {
        label: `$(server-process) Provider: ${s.provider}${host.info ? ` (in use: ${host.info.provider})` : ''}`,
        run: async () => {
          const p = await vscode.window.showQuickPick(PROVIDERS, { title: 'MoD Complete: execution provider' });
          if (p) await update('provider', p);
        },
      },
      { label: '$(graph) Show compute panel', run: () => panel.show() },
      { label: '$(refresh) Reload model', run: () => host.load() },
      { label: '$(output) Show log', run: () => log.show() },
    ];
    const pick = await vscode.window.showQuickPick(items, { title: `MoD Complete — ${host.status}${host.error ? `: ${host.error}` : ''}` });
    await pick?.run();
  };

  context.subscriptions.push(
    log, host, sync, history, status, panel,
    vscode.languages.registerInlineCompletionItemProvider({ pattern: '**' }, provider),
    vscode.commands.registerCommand('modComplete.trigger', () => vscode.commands.executeCommand('editor.action.inlineSuggest.trigger')),
    vscode.commands.registerCommand('modComplete.toggle', () => update('enable', !readSettings().enable)),
    vscode.commands.registerCommand('modComplete.generate', (instruction?: unknown) => generateCode(host, history, log, typeof instruction === 'string' ? instruction : undefined)),
    vscode.commands.registerCommand('modComplete.openPanel', () => panel.show()),
    vscode.commands.registerCommand('modComplete.menu', menu),
    vscode.commands.registerCommand('modComplete.setBudget', pickBudget),
    vscode.commands.registerCommand('modComplete.reloadModel', () => host.load()),
    vscode.commands.registerCommand('modComplete.showLog', () => log.show()),
    vscode.commands.registerCommand('modComplete.accepted', (id: number) => history.markAccepted(id)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (RELOAD_KEYS.some((k) => e.affectsConfiguration(k))) void host.load();
      else if (e.affectsConfiguration('modComplete.enable')) host.setEnabled(readSettings().enable);
      else if (e.affectsConfiguration('modComplete')) status.update();
    }),
  );
  void host.load();

  return {
    whenLoaded: () => host.whenLoaded(),
    state: () => ({
      status: host.status,
      provider: host.info?.provider,
      error: host.error,
      statusText: status.item.text,
      budget: readSettings().computeBudget,
      sessionComputeSaved: history.session().computeSaved,
    }),
    history: () => history.list(),
  };
}

/** VS Code waits for this: the worker finishes its token and releases its session before the host exits. */
export function deactivate(): Promise<void> | undefined {
  return activeHost?.shutdown();
}

