// Settings under modComplete.*, read in one place.
import * as vscode from 'vscode';
import type { ComputeBudget } from '../engine/budgets';
import type { ProviderChoice } from '../engine/providers';

export interface Settings {
  enable: boolean;
  languages: Record<string, boolean>;
  modelPath: string;
  provider: ProviderChoice;
  computeBudget: ComputeBudget;
  maxTokens: number;
  maxLines: number;
  debounceMs: number;
  prefixTokens: number;
  suffixTokens: number;
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration('modComplete');
  // modelPath and provider are machine-scoped: only the user's own settings may set them.
  const machine = <T>(key: string, dflt: T): T => {
    const i = c.inspect<T>(key);
    return (i?.globalValue ?? i?.defaultValue ?? dflt) as T;
  };
  return {
    enable: c.get('enable', true),
    languages: c.get('languages', { '*': true }),
    modelPath: machine('modelPath', ''),
    provider: machine<ProviderChoice>('provider', 'auto'),
    computeBudget: c.get('computeBudget', 'balanced'),
    maxTokens: c.get('maxTokens', 64),
    maxLines: c.get('maxLines', 8),
    debounceMs: c.get('debounceMs', 120),
    prefixTokens: c.get('prefixTokens', 300),
    suffixTokens: c.get('suffixTokens', 80),
  };
}

export function languageEnabled(s: Settings, languageId: string): boolean {
  return s.languages[languageId] ?? s.languages['*'] ?? true;
}

/** Settings whose change needs the model to be loaded again. */
export const RELOAD_KEYS = ['modComplete.modelPath', 'modComplete.provider'];
