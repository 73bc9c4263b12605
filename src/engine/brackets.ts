// Brackets of code as a small model's completion meets them: which openers before the cursor
// are still waiting for a closer, which of them the text after the cursor closes, and what a
// completion opens and closes. Strings and line comments are skipped, each line on its own
// (enough for the lines around a cursor; no language grammar).

export const CLOSER_OF: Readonly<Record<string, string>> = { '(': ')', '[': ']', '{': '}' };
const CLOSERS = new Set(Object.values(CLOSER_OF));

export interface Opener { ch: string; at: number }

export class BracketScan {
  /** Openers not closed yet, outermost first; `at` is the offset in the text fed. */
  readonly open: Opener[] = [];

  /** Where the text starts: inside a string (its quote) or a line comment, as the cursor may. */
  constructor(public quote?: string, public comment = false) {}

  /**
   * Feeds text. A closer that closes nothing opened in this text is handed to `stray`, which
   * says whether to go on; returns the offset scanning stopped at, or -1 at the end.
   */
  feed(text: string, stray: (closer: string) => boolean = () => true): number {
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (ch === '\n') {
        this.comment = false;
        this.quote = undefined;
      } else if (this.comment) continue;
      else if (this.quote) {
        if (ch === '\\') i++;
        else if (ch === this.quote) this.quote = undefined;
      } else if (ch === '"' || ch === "'" || ch === '`') this.quote = ch;
      else if ((ch === '/' && text[i + 1] === '/') || (ch === '#' && /^[ \t!]|^$/.test(text[i + 1] ?? ''))) this.comment = true;
      else if (CLOSER_OF[ch]) this.open.push({ ch, at: i });
      else if (CLOSERS.has(ch)) {
        if (this.open.length && CLOSER_OF[this.open[this.open.length - 1].ch] === ch) this.open.pop();
        else if (!stray(ch)) return i;
      }
    }
    return -1;
  }
}

/** Around the cursor: the string it sits in, and the closers a completion may write. */
export interface CursorBrackets {
  quote?: string;
  comment: boolean;
  /** Closers for openers before the cursor that nothing after it closes, innermost last. */
  closable: string[];
}

/**
 * Openers before the cursor that the text after it does not close. The first closer after the
 * cursor that closes something before it closes the innermost opener of its kind; the openers
 * inside that one are the completion's to close. Without such a closer (it lies outside the
 * windows), every waiting opener may be closed.
 */
export function cursorBrackets(prefix: string, suffix: string): CursorBrackets {
  const before = new BracketScan();
  before.feed(prefix);
  const waiting = before.open.map((o) => CLOSER_OF[o.ch]);
  let closable = waiting;
  new BracketScan(before.quote, before.comment).feed(suffix, (closer) => {
    const j = waiting.lastIndexOf(closer);
    if (j >= 0) closable = waiting.slice(j + 1);
    return j < 0;
  });
  return { quote: before.quote, comment: before.comment, closable };
}
