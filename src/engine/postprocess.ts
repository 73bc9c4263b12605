// Post-processing of a raw completion before it is shown: each rule is a small named function
// (text in, text out), applied in order, with golden tests in test/postprocess.test.ts. Rules
// see LF line endings and windows of the text around the cursor; the result gets the
// document's line endings back.
import { BracketScan, CLOSER_OF, cursorBrackets, type CursorBrackets } from './brackets';
import { detectIndent, leadingWhitespace, reindent, type IndentStyle } from './indent';

export interface PostContext {
  /** Text before the cursor (whole document prefix or a window of it). */
  prefix: string;
  /** Text after the cursor. */
  suffix: string;
  /** Text the user just accepted that ends at the cursor: a suggestion repeating it is dropped. */
  accepted?: string;
}

/** What the rules see: LF windows of the document around the cursor, and what they imply. */
export interface RuleContext extends PostContext {
  indent?: IndentStyle;
  brackets: CursorBrackets;
}

export type Rule = (completion: string, ctx: RuleContext) => string;

/** Characters of context each side of the cursor the rules look at (whole lines). */
export const CONTEXT_CHARS = 16 * 1024;

export function toLF(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

/** The line ending of the line break nearest the cursor (a file's endings are rarely mixed). */
export function documentEol(prefix: string, suffix: string): '\n' | '\r\n' {
  const before = prefix.lastIndexOf('\n');
  if (before >= 0) return prefix[before - 1] === '\r' ? '\r\n' : '\n';
  const after = suffix.indexOf('\n');
  return after > 0 && suffix[after - 1] === '\r' ? '\r\n' : '\n';
}

export function ruleContext(ctx: PostContext): RuleContext {
  let prefix = ctx.prefix.slice(-CONTEXT_CHARS);
  if (prefix.length < ctx.prefix.length) prefix = prefix.slice(prefix.indexOf('\n') + 1);
  let suffix = ctx.suffix.slice(0, CONTEXT_CHARS);
  if (suffix.length < ctx.suffix.length) suffix = suffix.slice(0, suffix.lastIndexOf('\n') + 1);
  prefix = toLF(prefix);
  suffix = toLF(suffix);
  return { prefix, suffix, accepted: ctx.accepted && toLF(ctx.accepted), indent: detectIndent(prefix + suffix), brackets: cursorBrackets(prefix, suffix) };
}

function restOfLine(ctx: PostContext): string {
  return ctx.suffix.split('\n', 1)[0];
}

function cursorLine(ctx: PostContext): string {
  return ctx.prefix.slice(ctx.prefix.lastIndexOf('\n') + 1);
}

/** What a completion opens and where it closes a bracket nobody opened (-1: none). */
function scanCompletion(c: string, ctx: RuleContext): { strayAt: number; open: BracketScan['open'] } {
  const closable = [...ctx.brackets.closable];
  const scan = new BracketScan(ctx.brackets.quote, ctx.brackets.comment);
  const strayAt = scan.feed(c, (closer) => closable.pop() === closer);
  return { strayAt, open: scan.open };
}

/** Nothing after the last non-blank character matters to the user; trailing blanks only add noise. */
export const trimTrailingWhitespace: Rule = (c) => c.replace(/[ \t]+$/gm, '').replace(/\n+$/, '');

/**
 * A closer that closes neither the completion's own opener nor one before the cursor that the
 * text after it leaves open belongs to code already there (the editor auto-closed it, or the
 * next lines hold it): cut the completion there.
 */
export const cutAtUnbalancedCloser: Rule = (c, ctx) => {
  const { strayAt } = scanCompletion(c, ctx);
  return strayAt < 0 ? c : c.slice(0, strayAt);
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

/**
 * Brackets the completion opens and leaves open (it stopped at its token or line budget) are
 * closed: on its last line when they open there mid-line (`get(requires` -> `get(requires)`),
 * else on a line of their own at the indentation of the line that opened them. A one-line
 * completion that only ends in openers (`if (x) {`) stays open: the user goes on below it.
 */
export const closeOpenBrackets: Rule = (c, ctx) => {
  const open = scanCompletion(c, ctx).open.reverse(); // innermost first
  if (!open.length) return c;
  let out = c.trimEnd();
  if (!c.includes('\n')) {
    let end = out.length;
    const onlyTrailing = open.every((o) => {
      const last = o.at === end - 1;
      end = out.slice(0, o.at).trimEnd().length;
      return last;
    });
    return onlyTrailing ? c : out + open.map((o) => CLOSER_OF[o.ch]).join('');
  }
  const lineStart = (at: number) => c.lastIndexOf('\n', at - 1) + 1;
  const lastLine = lineStart(out.length);
  let closing = -1; // start of the line whose openers the current closing line closes
  for (const o of open) {
    const line = lineStart(o.at);
    const inline = closing < 0 && line === lastLine && o.at < out.length - 1;
    if (!inline && line !== closing) {
      out += '\n' + leadingWhitespace(c.slice(line));
      closing = line;
    }
    out += CLOSER_OF[o.ch];
  }
  return out;
};

/** Lines the completion starts are indented the way the document is (tabs or spaces, and width). */
export const matchIndentation: Rule = (c, ctx) => (ctx.indent ? reindent(c, cursorLine(ctx), ctx.indent) : c);

/**
 * Right after an accept the model often offers the accepted text again (`matcher.get(requires`
 * accepted, `.get(requires` offered): a suggestion that repeats it, or an end of it, is dropped.
 * Closers at the end do not count (either side may have been closed by closeOpenBrackets).
 */
export const dropRepeatOfAccepted: Rule = (c, ctx) => {
  const bare = (t: string) => t.trim().replace(/[)\]}]+$/, '');
  const accepted = bare(ctx.accepted ?? '');
  const t = bare(c.split('\n', 1)[0]);
  if (!accepted || !t) return c;
  return accepted.endsWith(t) || t.startsWith(accepted) ? '' : c;
};

/** Empty suggestions, or a single stray punctuation character, are not worth showing. */
export const dropTiny: Rule = (c) => {
  const t = c.trim();
  if (!t) return '';
  if (t.length === 1 && !/[\w]/.test(t) && !c.includes('\n')) return '';
  return c;
};

export const RULES: Rule[] = [
  trimTrailingWhitespace, dropRepeatOfAccepted, cutAtUnbalancedCloser, dropRestOfLineOverlap, dropFollowingLinesOverlap,
  closeOpenBrackets, matchIndentation, trimTrailingWhitespace, dropTiny,
];

export function postProcess(completion: string, ctx: PostContext): string {
  const rc = ruleContext(ctx);
  const out = RULES.reduce((c, rule) => rule(c, rc), toLF(completion));
  return documentEol(ctx.prefix, ctx.suffix) === '\r\n' ? out.replace(/\n/g, '\r\n') : out;
}
