// Snippets in the prompt: the lines most like the code above the cursor, found in the current
// file outside the model's window and in the other open files, put ahead of the file in the
// `<|file_sep|>path` form of the training samples (sparse retrieval as in RepoCoder: Jaccard
// over identifiers, which Zhang et al. 2023 found as good as dense retrieval).
//
// A candidate is a window of lines; the snippet is that window plus the lines after it, since
// what follows a similar passage is the likely continuation here.

import { IDENTIFIERS } from './word-cache';

export interface SnippetSource {
  path: string;
  text: string;
  /** Identifies this exact text (uri and version) so its windows are indexed once; none: not kept. */
  key?: string;
}

export interface Snippet { path: string; text: string; score: number }

export interface SnippetOptions {
  /** Lines before the cursor line that form the query, and lines per candidate window. */
  windowLines: number;
  /** Lines between the starts of consecutive candidate windows. */
  stride: number;
  /** Lines after the matched window that the snippet carries too. */
  followLines: number;
  /** Least Jaccard similarity worth a place in the prompt. */
  minScore: number;
}

export const SNIPPET_OPTIONS: SnippetOptions = { windowLines: 8, stride: 4, followLines: 6, minScore: 0.35 };


export function identifiers(text: string): Set<string> {
  return new Set(text.match(IDENTIFIERS) ?? []);
}

export function jaccard(a: Set<string>, b: Set<string>): number {
  if (!a.size || !b.size) return 0;
  const [small, large] = a.size < b.size ? [a, b] : [b, a];
  let shared = 0;
  for (const x of small) if (large.has(x)) shared++;
  return shared / (a.size + b.size - shared);
}

interface Window { line: number; ids: Set<string> }
interface Indexed { lines: string[]; windows: Window[] }

function index(text: string, o: SnippetOptions): Indexed {
  const lines = text.split('\n');
  const windows: Window[] = [];
  for (let line = 0; line < lines.length; line += o.stride) {
    const ids = identifiers(lines.slice(line, line + o.windowLines).join('\n'));
    if (ids.size) windows.push({ line, ids });
  }
  return { lines, windows };
}

/** Indexes of unchanged open files, by key; bounded like the document store it mirrors. */
const indexed = new Map<string, Indexed>();
const MAX_INDEXED = 32;

function indexOf(src: SnippetSource, o: SnippetOptions): Indexed {
  if (!src.key) return index(src.text, o);
  const key = `${src.key}\0${o.windowLines}/${o.stride}`;
  let ix = indexed.get(key);
  if (!ix) {
    ix = index(src.text, o);
    indexed.set(key, ix);
    if (indexed.size > MAX_INDEXED) indexed.delete(indexed.keys().next().value!);
  }
  return ix;
}

/**
 * The query: the `windowLines` whole lines before the cursor line. The cursor line itself is
 * left out so that typing along a line keeps the same snippet and the engine reuses its prompt.
 */
export function snippetQuery(prefix: string, o: SnippetOptions = SNIPPET_OPTIONS): string {
  const lineStart = prefix.lastIndexOf('\n') + 1;
  const lines = prefix.slice(0, lineStart).split('\n');
  lines.pop();
  return lines.slice(-o.windowLines).join('\n');
}

/** The most similar window of the sources (first source wins ties), with its following lines. */
export function bestSnippet(query: string, sources: SnippetSource[], o: SnippetOptions = SNIPPET_OPTIONS): Snippet | undefined {
  const q = identifiers(query);
  if (!q.size) return undefined;
  let best: { src: SnippetSource; ix: Indexed; line: number; score: number } | undefined;
  for (const src of sources) {
    const ix = indexOf(src, o);
    for (const w of ix.windows) {
      const score = jaccard(q, w.ids);
      if (score >= o.minScore && score > (best?.score ?? 0)) best = { src, ix, line: w.line, score };
    }
  }
  if (!best) return undefined;
  const text = best.ix.lines.slice(best.line, best.line + o.windowLines + o.followLines).join('\n');
  return { path: best.src.path, text: text.endsWith('\n') ? text : text + '\n', score: best.score };
}
