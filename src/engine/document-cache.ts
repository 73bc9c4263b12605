// Documents kept in sync with the editor, each with the n-gram cache of its text. Text lives in
// chunks of whole lines; an edit only touches the chunks it overlaps, and their tokens are
// recomputed lazily when a completion next needs them, so typing costs a string splice and a
// completion re-tokenizes about one chunk, never the whole document. A huge document costs no
// more than a 1 MB one: only the text around the cursor is counted, indexed a bounded amount per
// completion, and a completion reads only the text around the cursor.
import { lookup, TokenChunk, type CachePrediction } from './cache-model';
import { WINDOW_LINE_STEP, type ContextWindow } from './prompt';
import { ChunkWords } from './word-cache';

/** Lines per chunk: ~1 KB of code, one short tokenizer call when it changes. */
export const CHUNK_LINES = 32;
/** Most characters per chunk: long lines (minified code) are cut, so no chunk is costly to re-tokenize. */
export const CHUNK_CHARS = 4096;
/** Characters of the current document on each side of the cursor that its cache counts. */
export const INDEX_RADIUS = 512 * 1024;
/**
 * Characters tokenized for one completion at most (tens of milliseconds), nearest the cursor
 * first: a large document's cache fills in over the next completions instead of delaying one.
 */
export const INDEX_CHARS_PER_COMPLETION = 64 * 1024;

export type Encode = (texts: string[]) => Promise<number[][]>;

export interface TextEdit { offset: number; deleteCount: number; text: string }

/** `lines`: newlines in `text`; `hole`: text kept out of the counts (the typed part of the cursor line). */
interface Chunk { text: string; lines: number; index?: TokenChunk; words?: ChunkWords; hole?: boolean }

/** Newlines in text[0, end). */
function countNewlines(text: string, end = text.length): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function chunkOf(text: string, hole?: boolean): Chunk {
  return { text, lines: countNewlines(text), hole };
}

/**
 * Edits from an editor's change event, whose changes (non-overlapping) are all given against the
 * text before it, as VS Code does: applied from the last to the first, each offset stays valid.
 */
export function editsFromChanges(changes: readonly { rangeOffset: number; rangeLength: number; text: string }[]): TextEdit[] {
  return [...changes].sort((a, b) => b.rangeOffset - a.rangeOffset).map((c) => ({ offset: c.rangeOffset, deleteCount: c.rangeLength, text: c.text }));
}

/**
 * Splits text into pieces of at most `lines` whole lines and `maxChars` characters each; a line
 * longer than that is cut (never inside a surrogate pair). The last piece may lack its newline.
 */
export function splitLines(text: string, lines = CHUNK_LINES, maxChars = CHUNK_CHARS): string[] {
  const out: string[] = [];
  // The first newline at or after `start`, found once: a search per piece would rescan a long line.
  let nl = text.indexOf('\n');
  for (let start = 0; start < text.length;) {
    const limit = Math.min(text.length, start + maxChars);
    let end = start;
    let n = 0;
    for (; n < lines && nl >= 0 && nl < limit; n++) {
      end = nl + 1;
      nl = text.indexOf('\n', end);
    }
    // A last line without a newline belongs to the chunk it fits in.
    if (nl < 0 && n < lines && text.length <= limit) end = text.length;
    if (end === start) {
      end = limit;
      const high = text.charCodeAt(end - 1);
      if (end < text.length && end - 1 > start && high >= 0xd800 && high < 0xdc00) end--;
    }
    out.push(text.slice(start, end));
    start = end;
  }
  return out;
}

export class DocumentCache {
  private chunks: Chunk[];

  constructor(readonly uri: string, readonly languageId: string, text: string, public version = 0) {
    this.chunks = splitLines(text).map((t) => chunkOf(t));
  }

  get text(): string {
    return this.chunks.map((c) => c.text).join('');
  }

  get length(): number {
    let n = 0;
    for (const c of this.chunks) n += c.text.length;
    return n;
  }

  /** Tokens indexed so far (after `ready`, the whole document). */
  get tokens(): number {
    let n = 0;
    for (const c of this.chunks) if (!c.hole) n += c.index?.ids.length ?? 0;
    return n;
  }

  /** Index of the first chunk that touches [from, to] and the offset where it starts. */
  private locate(from: number): { i: number; start: number } {
    let start = 0;
    let i = 0;
    // A position on a boundary belongs to the chunk before it, so edits there merge both.
    while (i < this.chunks.length - 1 && start + this.chunks[i].text.length < from) start += this.chunks[i++].text.length;
    return { i, start };
  }

  /** Applies one edit: the touched chunks are re-split into lines and marked for re-tokenizing. */
  edit(e: TextEdit): void {
    if (e.offset < 0 || e.deleteCount < 0 || e.offset + e.deleteCount > this.length) throw new RangeError(`edit ${e.offset}+${e.deleteCount} is outside ${this.uri}`);
    if (!this.chunks.length) this.chunks.push(chunkOf(''));
    const { i, start } = this.locate(e.offset);
    let j = i;
    let end = start + this.chunks[i].text.length;
    while (j < this.chunks.length - 1 && end <= e.offset + e.deleteCount) end += this.chunks[++j].text.length;
    const merged = this.chunks.slice(i, j + 1).map((c) => c.text).join('');
    const local = e.offset - start;
    const replaced = merged.slice(0, local) + e.text + merged.slice(local + e.deleteCount);
    this.chunks.splice(i, j - i + 1, ...splitLines(replaced).map((t) => chunkOf(t)));
  }

  /** Puts a chunk boundary at `offset` (n-grams never run across it). */
  private splitAt(offset: number): void {
    const { i, start } = this.locate(offset);
    const c = this.chunks[i];
    const local = offset - start;
    if (!c || local <= 0 || local >= c.text.length) return;
    this.chunks.splice(i, 1, chunkOf(c.text.slice(0, local), c.hole), chunkOf(c.text.slice(local), c.hole));
  }

  /**
   * Keeps the cursor line's text before `offset` out of the counts (until the next call) and puts
   * a boundary at the cursor. That text is the completion's own context: counted, it would
   * predict its own last token, which token healing takes back and re-creates, and the text
   * after the cursor would pose as the continuation.
   */
  isolateCursor(offset: number): void {
    const from = this.lineStart(offset);
    this.splitAt(from);
    this.splitAt(offset);
    let start = 0;
    for (const c of this.chunks) {
      const hole = start >= from && start + c.text.length <= offset && c.text.length > 0;
      c.hole = hole || undefined;
      start += c.text.length;
    }
  }

  /** Offset of the start of the line holding `offset`. */
  private lineStart(offset: number): number {
    let start = 0;
    let found = 0;
    for (const c of this.chunks) {
      if (start >= offset) break;
      const nl = c.text.lastIndexOf('\n', offset - start - 1);
      if (nl >= 0) found = start + nl + 1;
      start += c.text.length;
    }
    return found;
  }

  /**
   * Tokenizes chunks not indexed yet (one batched tokenizer call), nearest `near` first, until
   * about `budget` characters; returns the characters tokenized. With `near`, chunks farther
   * than INDEX_RADIUS from it drop their index, so memory and lookups stay bounded.
   */
  async ready(encode: Encode, budget = Infinity, near?: number): Promise<number> {
    const stale: { c: Chunk; distance: number }[] = [];
    let start = 0;
    for (const c of this.chunks) {
      const end = start + c.text.length;
      const distance = near === undefined ? 0 : Math.max(0, start - near, near - end);
      if (distance > INDEX_RADIUS) c.index = c.words = undefined;
      else if (!c.index && !c.hole) stale.push({ c, distance });
      start = end;
    }
    stale.sort((a, b) => a.distance - b.distance);
    const picked: Chunk[] = [];
    let chars = 0;
    for (const { c } of stale) {
      if (chars >= budget) break;
      picked.push(c);
      chars += c.text.length;
    }
    if (!picked.length) return 0;
    const ids = await encode(picked.map((c) => c.text));
    picked.forEach((c, k) => {
      c.index = new TokenChunk(Uint32Array.from(ids[k]));
      c.words = new ChunkWords(c.text);
    });
    return chars;
  }

  /**
   * The text a completion at `offset` reads: up to `chars` characters after it, and before it at
   * least `chars` from the start of a line whose number is a multiple of WINDOW_LINE_STEP; the
   * prompt's windows, aligned to such lines, come out as from the whole text, without a join of it.
   */
  around(offset: number, chars: number): ContextWindow {
    const from = Math.max(0, offset - chars);
    // Each chunk's start and the newlines before it, up to the chunk holding `from`.
    const starts = [0];
    const newlines = [0];
    let i = 0;
    while (i < this.chunks.length - 1 && starts[i] + this.chunks[i].text.length <= from) {
      starts.push(starts[i] + this.chunks[i].text.length);
      newlines.push(newlines[i] + this.chunks[i].lines);
      i++;
    }
    const line = newlines[i] + countNewlines(this.chunks[i]?.text ?? '', from - starts[i]);
    const aligned = line - (line % WINDOW_LINE_STEP);
    // Line `aligned` starts after newline number `aligned`: find the chunk holding that newline.
    let k = i;
    while (k > 0 && newlines[k] >= aligned) k--;
    let begin = 0;
    if (aligned > 0) {
      const t = this.chunks[k].text;
      let at = -1;
      for (let n = newlines[k]; n < aligned; n++) at = t.indexOf('\n', at + 1);
      begin = starts[k] + at + 1;
    }
    const parts: string[] = [];
    let start = starts[k];
    for (let j = k; j < this.chunks.length && start < offset + chars; j++) {
      parts.push(this.chunks[j].text);
      start += this.chunks[j].text.length;
    }
    const text = parts.join('').slice(begin - starts[k], offset + chars - starts[k]);
    return { prefix: text.slice(0, offset - begin), suffix: text.slice(offset - begin) };
  }

  *indexes(): Iterable<TokenChunk> {
    for (const c of this.chunks) if (c.index && !c.hole) yield c.index;
  }

  predict(ctx: ArrayLike<number>): CachePrediction | undefined {
    return lookup(this.indexes(), ctx);
  }

  /** Adds `factor` x the count of each identifier beginning with `head` in the indexed text to `into`. */
  collectWords(head: string, into: Map<string, number>, factor = 1): void {
    for (const c of this.chunks) if (c.words && !c.hole) c.words.collect(head, into, factor);
  }
}

/** Other documents kept for the workspace cache: at most this many ... */
export const MAX_OTHER_DOCUMENTS = 20;
/** ... holding at most this many characters together. */
export const MAX_OTHER_CHARS = 1_000_000;

export interface CompletionCaches { file: DocumentCache; workspace: DocumentCache[] }

/**
 * Open documents by URI, most recently used last. Only the most recent one may exceed the bounds
 * on the others, so memory stays bounded however many files the editor has open.
 */
export class DocumentStore {
  private readonly docs = new Map<string, DocumentCache>();

  constructor(private readonly encode: Encode) {}

  get(uri: string): DocumentCache | undefined {
    return this.docs.get(uri);
  }

  get size(): number {
    return this.docs.size;
  }

  private touch(doc: DocumentCache): void {
    this.docs.delete(doc.uri);
    this.docs.set(doc.uri, doc);
    const others = [...this.docs.values()].slice(0, -1);
    let chars = others.reduce((n, d) => n + d.length, 0);
    let count = others.length;
    for (const d of others) {
      if (count <= MAX_OTHER_DOCUMENTS && chars <= MAX_OTHER_CHARS) break;
      this.docs.delete(d.uri);
      chars -= d.length;
      count--;
    }
  }

  open(uri: string, languageId: string, text: string, version = 0): DocumentCache {
    const doc = new DocumentCache(uri, languageId, text, version);
    this.touch(doc);
    return doc;
  }

  /**
   * Applies edits made to go from version `from` to `to`; false (and the document dropped) when
   * this store does not hold version `from` or an edit does not fit it, so the caller re-sends
   * the whole text.
   */
  edit(uri: string, from: number, to: number, edits: TextEdit[]): boolean {
    const doc = this.docs.get(uri);
    try {
      if (!doc || doc.version !== from) throw new RangeError('not at that version');
      for (const e of edits) doc.edit(e);
    } catch {
      this.docs.delete(uri);
      return false;
    }
    doc.version = to;
    return true;
  }

  close(uri: string): void {
    this.docs.delete(uri);
  }

  /** The caches for a completion at `offset` in `uri`: its document and the others of its language, newest first. */
  async prepare(uri: string, offset: number): Promise<CompletionCaches> {
    const file = this.docs.get(uri);
    if (!file) throw new RangeError(`${uri} is not open`);
    this.touch(file);
    file.isolateCursor(offset);
    const workspace = [...this.docs.values()].filter((d) => d !== file && d.languageId === file.languageId).reverse();
    let budget = INDEX_CHARS_PER_COMPLETION;
    budget -= await file.ready(this.encode, budget, offset);
    for (const d of workspace) budget -= await d.ready(this.encode, budget);
    return { file, workspace };
  }
}
