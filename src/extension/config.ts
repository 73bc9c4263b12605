// Settings under modComplete.*, read in one place.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ComputeBudget } from '../engine/budgets';
import { packageRoot } from '../engine/paths';
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

type NumberKey = 'maxTokens' | 'maxLines' | 'debounceMs' | 'prefixTokens' | 'suffixTokens';

/** The number settings' schemas (package.json): the one place their defaults and bounds are written. */
let schemas: Record<string, { default: number; minimum: number; maximum: number }> | undefined;

function schemaOf(key: NumberKey): { default: number; minimum: number; maximum: number } {
  schemas ??= JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')).contributes.configuration.properties;
  return schemas![`modComplete.${key}`];
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration('modComplete');
  // VS Code only warns about values outside the schema: a hand-edited settings.json may hold -1 or 1e9.
  const bounded = (key: NumberKey): number => {
    const { default: dflt, minimum, maximum } = schemaOf(key);
    const v = c.get<unknown>(key);
    return typeof v === 'number' && Number.isFinite(v) ? Math.min(maximum, Math.max(minimum, Math.round(v))) : dflt;
  };
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
    maxTokens: bounded('maxTokens'),
    maxLines: bounded('maxLines'),
    debounceMs: bounded('debounceMs'),
    prefixTokens: bounded('prefixTokens'),
    suffixTokens: bounded('suffixTokens'),
  };
}

export function languageEnabled(s: Settings, languageId: string): boolean {
  return s.languages[languageId] ?? s.languages['*'] ?? true;
}

/**
 * Turns completions on or off for one language in the user settings, keeping the user's other
 * entries (VS Code merges an object setting's levels, so the defaults need not be copied).
 * Returns false when a workspace value still overrides the result.
 */
export async function setLanguageEnabled(languageId: string, enabled: boolean): Promise<boolean> {
  const c = vscode.workspace.getConfiguration('modComplete');
  await c.update('languages', { ...c.inspect<Record<string, boolean>>('languages')?.globalValue, [languageId]: enabled }, vscode.ConfigurationTarget.Global);
  return languageEnabled(readSettings(), languageId) === enabled;
}

/** Settings whose change needs the model to be loaded again. */
export const RELOAD_KEYS = ['modComplete.modelPath', 'modComplete.provider'];
