// The compute meter in the status bar: state (snoozed, off for the active editor's language),
// compute saved by the last suggestion; the tooltip explains with the session, tokens/s and the
// figures behind them; a click opens the menu.
import * as vscode from 'vscode';
import { languageEnabled, readSettings } from './config';
import type { EngineHost } from './engine-host';
import type { SuggestionRecord } from './api';
import type { SuggestionHistory } from './history';
import { minutesLeft, type Snooze } from './snooze';
import { pct, statusText } from './view-model';

export function gflops(x: number): string {
  return x >= 1e9 ? `${(x / 1e9).toFixed(2)} GFLOP` : `${(x / 1e6).toFixed(1)} MFLOP`;
}

/** What the last suggestion knew: the prompt the model saw and what the cache model counted over. */
export function contextLine(r: Pick<SuggestionRecord, 'promptTokens' | 'cache' | 'tokens'>): string {
  const prompt = `Context: ${r.promptTokens} prompt tokens around the cursor`;
  const c = r.cache;
  if (!c) return `${prompt}; no cache.`;
  const files = c.workspaceFiles ? ` + ${c.workspaceFiles} other open file${c.workspaceFiles === 1 ? '' : 's'} (${c.workspaceTokens} tokens)` : '';
  const changed = c.changed.reduce((a, b) => a + b, 0);
  return `${prompt}; cache over this file (${c.fileTokens} tokens)${files}, which changed ${changed} of ${r.tokens} generated tokens.`;
}

export class StatusBar implements vscode.Disposable {
  readonly item = vscode.window.createStatusBarItem('modComplete.status', vscode.StatusBarAlignment.Right, 100);
  private readonly subs: vscode.Disposable[];

  constructor(private readonly host: EngineHost, private readonly history: SuggestionHistory, private readonly snooze: Snooze) {
    this.item.name = 'MoD Complete';
    this.item.command = 'modComplete.menu';
    this.subs = [
      host.onDidChange(() => this.update()),
      history.onDidChange(() => this.update()),
      snooze.onDidChange(() => this.update()),
      vscode.window.onDidChangeActiveTextEditor(() => this.update()),
    ];
    this.update();
    this.item.show();
  }

  update(): void {
    const h = this.host;
    const languageId = vscode.window.activeTextEditor?.document.languageId;
    const s = readSettings();
    this.item.text = statusText({
      status: h.status,
      lastSaved: this.history.latest()?.computeSaved,
      snoozedMs: this.snooze.remainingMs(),
      languageOff: languageId && !languageEnabled(s, languageId) ? languageId : undefined,
    });
    this.item.backgroundColor = h.status === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground')
      : h.status === 'restarting' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown('**MoD Complete** — local completions with Mixture-of-Depths: routed blocks run only for the tokens their predictor picks.\n\n');
    if (h.status === 'error') md.appendMarkdown(`Error: ${h.error}\n\n`);
    if (h.status === 'restarting') md.appendMarkdown(`The engine worker stopped: ${h.error} Starting a new one…\n\n`);
    else if (h.recovered) md.appendMarkdown(`Recovered at ${h.recovered.at.toLocaleTimeString()} after the engine worker stopped: ${h.recovered.error}\n\n`);
    if (this.snooze.active) md.appendMarkdown(`Completions are snoozed for ${minutesLeft(this.snooze.remainingMs())} more min (Resume in the menu).\n\n`);
    if (h.info) md.appendMarkdown(`Model \`${h.info.model}\` (${h.info.precision}) on **${h.info.provider}** · budget **${s.computeBudget}**\n\n`);
    const last = this.history.latest();
    if (last) {
      md.appendMarkdown(`Last suggestion: ${last.tokens} tokens in ${last.latencyMs.toFixed(0)} ms (${last.tokensPerSecond.toFixed(0)} tok/s); ` +
        `${gflops(last.flops)} executed vs ${gflops(last.denseFlops)} with every block on: **${pct(last.computeSaved)} saved**, ${last.kvEntriesSaved} KV cache entries not stored.\n\n`);
      md.appendMarkdown(`${contextLine(last)}\n\n`);
    }
    const sess = this.history.session();
    if (sess.suggestions) md.appendMarkdown(`Session: ${sess.suggestions} suggestions, ${sess.accepted} accepted, ${sess.discarded} generations discarded, ${pct(sess.computeSaved)} compute saved.\n\n`);
    md.appendMarkdown('Click for the menu.');
    this.item.tooltip = md;
  }

  dispose(): void {
    this.subs.forEach((d) => d.dispose());
    this.item.dispose();
  }
}
