// Documents kept in sync with the editor, each with the n-gram cache of its text. Text lives in
// chunks of whole lines; an edit only touches the chunks it overlaps, and their tokens are
// recomputed lazily when a completion next needs them, so typing costs a string splice and a
// completion re-tokenizes about one chunk, never the whole document.
import { lookup, TokenChunk, type CachePrediction } from './cache-model';

/** Lines per chunk: ~1 KB of code, one short tokenizer call when it changes. */
export const CHUNK_LINES = 32;

export type Encode = (texts: string[]) => Promise<number[][]>;

export interface TextEdit { offset: number; deleteCount: number; text: string }

/** `hole`: text kept out of the counts (the typed part of the cursor line). */
interface Chunk { text: string; index?: TokenChunk; hole?: boolean }

/**
 * Edits from an editor's change event, whose changes (non-overlapping) are all given against the
 * text before it, as VS Code does: applied from the last to the first, each offset stays valid.
 */
export function editsFromChanges(changes: readonly { rangeOffset: number; rangeLength: number; text: string }[]): TextEdit[] {
  return [...changes].sort((a, b) => b.rangeOffset - a.rangeOffset).map((c) => ({ offset: c.rangeOffset, deleteCount: c.rangeLength, text: c.text }));
}

/** Splits text into pieces of at most `lines` lines each (the last may lack its newline). */
export function splitLines(text: string, lines = CHUNK_LINES): string[] {
  const out: string[] = [];
  let start = 0;
  let count = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) {
    if (++count === lines) {
      out.push(text.slice(start, i + 1));
      start = i + 1;
      count = 0;
    }
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

export class DocumentCache {
  private chunks: Chunk[];
  private pending = true;

  constructor(readonly uri: string, readonly languageId: string, text: string, public version = 0) {
    this.chunks = splitLines(text).map((t) => ({ text: t }));
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
    if (!this.chunks.length) this.chunks.push({ text: '' });
    const { i, start } = this.locate(e.offset);
    let j = i;
    let end = start + this.chunks[i].text.length;
    while (j < this.chunks.length - 1 && end <= e.offset + e.deleteCount) end += this.chunks[++j].text.length;
    const merged = this.chunks.slice(i, j + 1).map((c) => c.text).join('');
    const local = e.offset - start;
    const replaced = merged.slice(0, local) + e.text + merged.slice(local + e.deleteCount);
    this.chunks.splice(i, j - i + 1, ...splitLines(replaced).map((t) => ({ text: t })));
    this.pending = true;
  }

  /** Puts a chunk boundary at `offset` (n-grams never run across it). */
  private splitAt(offset: number): void {
    const { i, start } = this.locate(offset);
    const c = this.chunks[i];
    const local = offset - start;
    if (!c || local <= 0 || local >= c.text.length) return;
    this.chunks.splice(i, 1, { text: c.text.slice(0, local), hole: c.hole }, { text: c.text.slice(local), hole: c.hole });
    this.pending = true;
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
      if (c.hole && !hole) this.pending = true;
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

  /** Tokenizes the chunks changed since the last call (one batched tokenizer call). */
  async ready(encode: Encode): Promise<void> {
    if (!this.pending) return;
    const stale = this.chunks.filter((c) => !c.index && !c.hole);
    const ids = await encode(stale.map((c) => c.text));
    stale.forEach((c, k) => (c.index = new TokenChunk(Uint32Array.from(ids[k]))));
    this.pending = this.chunks.some((c) => !c.index && !c.hole);
  }

  *indexes(): Iterable<TokenChunk> {
    for (const c of this.chunks) if (c.index && !c.hole) yield c.index;
  }

  predict(ctx: ArrayLike<number>): CachePrediction | undefined {
    return lookup(this.indexes(), ctx);
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
    for (const d of [file, ...workspace]) await d.ready(this.encode);
    return { file, workspace };
  }
}
