// MoD Complete for VS Code: a thin layer over the engine (src/engine), which runs in a worker
// thread so the extension host never waits on the model.
import '../engine/telemetry'; // first: turns onnxruntime telemetry off before it loads
import * as vscode from 'vscode';
import { COMPUTE_BUDGETS } from '../engine/budgets';
import type { ModCompleteApi } from './api';
import { languageEnabled, readSettings, RELOAD_KEYS, setLanguageEnabled } from './config';
import { DocumentSync } from './document-sync';
import { EngineHost } from './engine-host';
import { generateCode, GenerationPreview } from './generate';
import { SuggestionHistory } from './history';
import { InlineProvider } from './inline-provider';
import { ComputePanel } from './panel';
import { Snooze, SNOOZE_MINUTES } from './snooze';
import { StatusBar } from './status-bar';
import { type MenuAction, menuEntries } from './view-model';

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

/** Completions on or off for a language, in the user settings. */
async function setLanguage(languageId: string, enable: boolean): Promise<void> {
  if (!(await setLanguageEnabled(languageId, enable))) {
    void vscode.window.showWarningMessage(`MoD Complete: the workspace settings (modComplete.languages) still turn completions ${enable ? 'off' : 'on'} for ${languageId}.`);
  }
}

/** Flips a language (the active editor's by default). */
async function toggleLanguage(languageId = vscode.window.activeTextEditor?.document.languageId): Promise<void> {
  if (languageId) await setLanguage(languageId, !languageEnabled(readSettings(), languageId));
}

let activeHost: EngineHost | undefined;

export function activate(context: vscode.ExtensionContext): ModCompleteApi {
  const log = vscode.window.createOutputChannel('MoD Complete', { log: true });
  const host = new EngineHost(context.extensionPath, log);
  activeHost = host;
  const history = new SuggestionHistory();
  const snooze = new Snooze(context.globalState);
  const status = new StatusBar(host, history, snooze);
  const panel = new ComputePanel(context.extensionUri, host, history);
  const sync = new DocumentSync(() => host.client, host.onDidRestart);
  const provider = new InlineProvider(host, sync, history, log, snooze);
  const preview = new GenerationPreview(history, log);

  const setSnoozedContext = () => void vscode.commands.executeCommand('setContext', 'modComplete.snoozed', snooze.active);
  setSnoozedContext();
  const toggle = () => update('enable', !readSettings().enable);
  /** The command's argument (minutes), or a pick among the menu's choices. */
  const snoozeFor = async (minutes?: unknown) => {
    const m = typeof minutes === 'number' && minutes > 0 ? minutes
      : (await vscode.window.showQuickPick(SNOOZE_MINUTES.map((n) => ({ label: `${n} minutes`, n })), { title: 'MoD Complete: snooze inline completions' }))?.n;
    if (m) await snooze.snooze(m);
  };

  const run = async (a: MenuAction) => {
    switch (a.kind) {
      case 'toggle': return toggle();
      case 'language': return setLanguage(a.languageId, a.enable);
      case 'snooze': return snooze.snooze(a.minutes);
      case 'resume': return snooze.resume();
      case 'budget': return pickBudget();
      case 'provider': {
        const p = await vscode.window.showQuickPick(PROVIDERS, { title: 'MoD Complete: execution provider' });
        return p && update('provider', p);
      }
      case 'panel': return panel.show();
      case 'reload': return host.load();
      case 'log': return log.show();
    }
  };
  const menu = async () => {
    const s = readSettings();
    const languageId = vscode.window.activeTextEditor?.document.languageId;
    const entries = menuEntries({
      enable: s.enable,
      computeBudget: s.computeBudget,
      provider: s.provider,
      providerInUse: host.info?.provider,
      language: languageId ? { id: languageId, enabled: languageEnabled(s, languageId) } : undefined,
      snoozedMs: snooze.remainingMs(),
    });
    const pick = await vscode.window.showQuickPick(entries, { title: `MoD Complete — ${host.status}${host.error ? `: ${host.error}` : ''}` });
    if (pick) await run(pick.action);
  };

  context.subscriptions.push(
    log, host, sync, history, snooze, status, panel, preview,
    snooze.onDidChange(setSnoozedContext),
    // The preview does not need the engine, but a reload is a clear point where the user moved on.
    host.onDidChange(() => host.status === 'loading' && preview.accept('model reloaded')),
    vscode.languages.registerInlineCompletionItemProvider({ pattern: '**' }, provider),
    vscode.commands.registerCommand('modComplete.trigger', () => vscode.commands.executeCommand('editor.action.inlineSuggest.trigger')),
    vscode.commands.registerCommand('modComplete.toggle', toggle),
    vscode.commands.registerCommand('modComplete.toggleLanguage', (languageId?: unknown) => toggleLanguage(typeof languageId === 'string' ? languageId : undefined)),
    vscode.commands.registerCommand('modComplete.snooze', snoozeFor),
    vscode.commands.registerCommand('modComplete.resume', () => snooze.resume()),
    vscode.commands.registerCommand('modComplete.generate', (instruction?: unknown) => generateCode(host, history, preview, log, typeof instruction === 'string' ? instruction : undefined)),
    vscode.commands.registerCommand('modComplete.acceptGeneration', () => preview.accept()),
    vscode.commands.registerCommand('modComplete.discardGeneration', () => preview.discard()),
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

