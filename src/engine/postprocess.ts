// Post-processing of a raw completion before it is shown: each rule is a small named function
// (text in, text out), applied in order, with golden tests in test/postprocess.test.ts.

export interface PostContext {
  /** Text before the cursor (whole document prefix or a window of it). */
  prefix: string;
  /** Text after the cursor. */
  suffix: string;
}

export type Rule = (completion: string, ctx: PostContext) => string;

const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
const CLOSERS = new Set([')', ']', '}']);

function restOfLine(ctx: PostContext): string {
  return ctx.suffix.split('\n', 1)[0];
}

/** Nothing after the last non-blank character matters to the user; trailing blanks only add noise. */
export const trimTrailingWhitespace: Rule = (c) => c.replace(/[ \t]+$/gm, '').replace(/\n+$/, '');

/**
 * With code right of the cursor, a closer the completion did not open belongs to that code
 * (the editor already inserted it): cut the completion there.
 */
export const cutAtUnbalancedCloser: Rule = (c, ctx) => {
  if (!restOfLine(ctx).trim()) return c;
  const stack: string[] = [];
  let quote: string | undefined;
  for (let i = 0; i < c.length; i++) {
    const ch = c[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'" || ch === '`') quote = ch;
    else if (OPENERS[ch]) stack.push(OPENERS[ch]);
    else if (CLOSERS.has(ch)) {
      if (stack.pop() !== ch) return c.slice(0, i);
    }
  }
  return c;
};

/** The end of a single-line completion must not repeat what already follows the cursor on that line. */
export const dropRestOfLineOverlap: Rule = (c, ctx) => {
  if (c.includes('\n')) return c;
  const rest = restOfLine(ctx).trimEnd();
  if (!rest.trim()) return c;
  if (c.endsWith(rest)) return c.slice(0, c.length - rest.length);
  for (let k = Math.min(c.length, rest.length); k > 0; k--) {
    const head = rest.slice(0, k);
    if (head.trim() && c.endsWith(head)) return c.slice(0, c.length - k);
  }
  return c;
};

/** A multi-line completion must not repeat the lines that already follow the cursor (e.g. a closing `}`). */
export const dropFollowingLinesOverlap: Rule = (c, ctx) => {
  if (!c.includes('\n')) return c;
  const next = ctx.suffix.split('\n').slice(1).map((l) => l.trimEnd()).filter((l) => l.trim());
  const lines = c.split('\n');
  // Longest tail of the completion equal to the head of the following lines.
  for (let k = Math.min(next.length, lines.length - 1); k > 0; k--) {
    const tail = lines.slice(lines.length - k).map((l) => l.trimEnd());
    if (tail.every((l, i) => l === next[i])) return lines.slice(0, lines.length - k).join('\n');
  }
  return c;
};

/** Empty suggestions, or a single stray punctuation character, are not worth showing. */
export const dropTiny: Rule = (c) => {
  const t = c.trim();
  if (!t) return '';
  if (t.length === 1 && !/[\w]/.test(t) && !c.includes('\n')) return '';
  return c;
};

export const RULES: Rule[] = [trimTrailingWhitespace, cutAtUnbalancedCloser, dropRestOfLineOverlap, dropFollowingLinesOverlap, trimTrailingWhitespace, dropTiny];

export function postProcess(completion: string, ctx: PostContext): string {
  return RULES.reduce((c, rule) => rule(c, ctx), completion);
}
