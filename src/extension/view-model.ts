// What the status bar, the status menu and the log say, as pure functions of the extension's
// state (no vscode import), so node tests cover the wording without VS Code.
import type { TimedResult } from '../engine/client';
import type { ExtensionStatus, SuggestionRecord } from './api';
import { minutesLeft, SNOOZE_MINUTES } from './snooze';

export function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

export interface StatusView {
  status: ExtensionStatus;
  /** Compute saved by the latest suggestion; undefined before the first one. */
  lastSaved?: number;
  snoozedMs: number;
  /** The active editor's language, when completions are turned off for it. */
  languageOff?: string;
}

/**
 * The status bar text. A whole percentage reads at a glance ("36% compute saved"); the tooltip
 * keeps the decimals and tokens/s. A running request shows the spinner whatever else holds.
 */
export function statusText(v: StatusView): string {
  const saved = v.lastSaved === undefined ? '' : ` ${Math.round(100 * v.lastSaved)}% compute saved`;
  switch (v.status) {
    case 'loading':
      return '$(loading~spin) MoD loading';
    case 'restarting':
      return '$(loading~spin) MoD restarting';
    case 'error':
      return '$(error) MoD error';
    case 'disabled':
      return '$(circle-slash) MoD off';
    case 'generating':
      return `$(sync~spin) MoD${saved}`;
    case 'ready':
      if (v.snoozedMs > 0) return `$(clock) MoD snoozed ${minutesLeft(v.snoozedMs)}m`;
      if (v.languageOff) return `$(circle-slash) MoD off for ${v.languageOff}`;
      return saved ? `$(zap) MoD${saved}` : '$(zap) MoD ready';
  }
}

export type MenuAction =
  | { kind: 'toggle' }
  | { kind: 'language'; languageId: string; enable: boolean }
  | { kind: 'snooze'; minutes: number }
  | { kind: 'resume' }
  | { kind: 'budget' }
  | { kind: 'provider' }
  | { kind: 'panel' }
  | { kind: 'reload' }
  | { kind: 'log' };

export interface MenuEntry { label: string; description?: string; action: MenuAction }

export interface MenuState {
  enable: boolean;
  computeBudget: string;
  provider: string;
  providerInUse?: string;
  /** The active editor's language and whether completions are on for it; absent without an editor. */
  language?: { id: string; enabled: boolean };
  snoozedMs: number;
}

export function menuEntries(m: MenuState): MenuEntry[] {
  const entries: MenuEntry[] = [
    { label: m.enable ? '$(circle-slash) Disable completions' : '$(zap) Enable completions', action: { kind: 'toggle' } },
  ];
  if (m.language) {
    const { id, enabled } = m.language;
    entries.push({ label: enabled ? `$(circle-slash) Disable for ${id}` : `$(check) Enable for ${id}`, description: 'user settings', action: { kind: 'language', languageId: id, enable: !enabled } });
  }
  if (m.snoozedMs > 0) entries.push({ label: '$(play) Resume completions', description: `snoozed, ${minutesLeft(m.snoozedMs)} min left`, action: { kind: 'resume' } });
  else for (const minutes of SNOOZE_MINUTES) entries.push({ label: `$(clock) Snooze for ${minutes} minutes`, action: { kind: 'snooze', minutes } });
  entries.push(
    { label: `$(dashboard) Compute budget: ${m.computeBudget}`, action: { kind: 'budget' } },
    { label: `$(server-process) Provider: ${m.provider}${m.providerInUse ? ` (in use: ${m.providerInUse})` : ''}`, action: { kind: 'provider' } },
    { label: '$(graph) Show compute panel', action: { kind: 'panel' } },
    { label: '$(refresh) Reload model', action: { kind: 'reload' } },
    { label: '$(output) Show log', action: { kind: 'log' } },
  );
  return entries;
}

/** The figures of a finished request that its log line gives. */
export type RequestFigures = Pick<TimedResult, 'mode' | 'tokens' | 'queueMs'> & {
  timing: Pick<TimedResult['timing'], 'totalMs' | 'reusedTokens' | 'promptTokens'>;
  compute: Pick<TimedResult['compute'], 'saved'>;
};

export type RequestOutcome = 'shown' | 'empty' | 'cancelled' | 'generated';

/**
 * One info line per engine request: `where` is file:line:col, `id` the history record of what was
 * shown, which the later accepted / discarded line names.
 */
export function requestLine(where: string, kind: SuggestionRecord['kind'], outcome: RequestOutcome, r: RequestFigures, id?: number): string {
  const engine = r.timing.totalMs;
  return `${where} ${kind} ${r.mode}: ${outcome}${id === undefined ? '' : ` #${id}`}, ${r.tokens} tokens in ${(r.queueMs + engine).toFixed(0)} ms ` +
    `(queue ${r.queueMs.toFixed(0)} + engine ${engine.toFixed(0)}), ${pct(r.compute.saved)} compute saved, reused ${r.timing.reusedTokens}/${r.timing.promptTokens} prompt tokens`;
}

/** A request cancelled before the engine answered (the user typed on, or a reload stopped it). */
export function cancelledLine(where: string, kind: SuggestionRecord['kind'], elapsedMs: number): string {
  return `${where} ${kind}: cancelled after ${elapsedMs.toFixed(0)} ms`;
}

/** What the user did with a suggestion shown earlier. */
export function decisionLine(rec: Pick<SuggestionRecord, 'file' | 'kind' | 'id'>, outcome: 'accepted' | 'discarded', why?: string): string {
  return `${rec.file} ${rec.kind} #${rec.id}: ${outcome}${why ? ` (${why})` : ''}`;
}
