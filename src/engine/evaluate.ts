// Scoring completions against held-out targets (used by `mod-complete eval` and the reports).
import type { CompletionRequest, CompletionResult } from './engine';
import { editSimilarity, exactMatch, mean, percentile } from './metrics';
import { postProcess } from './postprocess';

export interface EvalCase {
  id: string; prefix: string; suffix: string; target: string; path?: string; kind?: string; lang?: string;
  /** The rest of the file before `prefix` and after `suffix`, where the case format has it. */
  before?: string; after?: string;
}

/** The whole document of a case as the user has it at the cursor (the target not yet written). */
export function caseDocument(c: EvalCase): { prefix: string; suffix: string } {
  return { prefix: (c.before ?? '') + c.prefix, suffix: c.suffix + (c.after ?? '') };
}

export interface CaseResult { id: string; kind?: string; lang?: string; exact: boolean; similarity: number; saved: number; ms: number; completion: string }

export interface EvalReport {
  exactMatch: number;
  editSimilarity: number;
  computeSaved: number;
  p50Ms: number;
  p95Ms: number;
  cases: number;
  groups: Record<string, { exactMatch: number; editSimilarity: number; cases: number }>;
}

export type Completer = (c: EvalCase, mode: 'line' | 'multiline') => Promise<{ text: string; saved: number; ms: number }>;

/** Each case is a single-line completion at the end of its prefix, except cases marked multi-line. */
export function caseMode(c: EvalCase): 'line' | 'multiline' {
  return c.kind === 'multi-line' ? 'multiline' : 'line';
}

/** The completer `eval` and the reports share: the case's own prefix and suffix, its mode, and `options`. */
export function engineCompleter(
  complete: (req: CompletionRequest) => Promise<CompletionResult & { queueMs?: number }>,
  options: Omit<CompletionRequest, 'prefix' | 'suffix' | 'path' | 'mode'> = {},
): Completer {
  return async (k, mode) => {
    const r = await complete({ path: k.path ?? k.id, prefix: k.prefix, suffix: k.suffix, ...options, mode });
    return { text: r.text, saved: r.compute.saved, ms: (r.queueMs ?? 0) + r.timing.totalMs };
  };
}

export async function runCases(cases: EvalCase[], complete: Completer): Promise<CaseResult[]> {
  const rows: CaseResult[] = [];
  for (const k of cases) {
    const r = await complete(k, caseMode(k));
    const text = postProcess(r.text, { prefix: k.prefix, suffix: k.suffix });
    rows.push({ id: k.id, kind: k.kind, lang: k.lang, exact: exactMatch(text, k.target), similarity: editSimilarity(text, k.target), saved: r.saved, ms: r.ms, completion: text });
  }
  return rows;
}

export function summarize(rows: CaseResult[]): EvalReport {
  const key = (r: CaseResult) => `${r.lang ?? 'any'}/${r.kind ?? 'line'}`;
  const groups: EvalReport['groups'] = {};
  for (const k of [...new Set(rows.map(key))].sort()) {
    const g = rows.filter((r) => key(r) === k);
    groups[k] = { exactMatch: mean(g.map((r) => (r.exact ? 1 : 0))), editSimilarity: mean(g.map((r) => r.similarity)), cases: g.length };
  }
  return {
    exactMatch: mean(rows.map((r) => (r.exact ? 1 : 0))),
    editSimilarity: mean(rows.map((r) => r.similarity)),
    computeSaved: mean(rows.map((r) => r.saved)),
    p50Ms: percentile(rows.map((r) => r.ms), 50),
    p95Ms: percentile(rows.map((r) => r.ms), 95),
    cases: rows.length,
    groups,
  };
}

export function parseCases(text: string, name: string): EvalCase[] {
  return text.split('\n').filter((l) => l.trim()).map((l, i) => {
    try {
      return JSON.parse(l) as EvalCase;
    } catch {
      throw new Error(`${name}:${i + 1} is not valid JSON.`);
    }
  });
}
