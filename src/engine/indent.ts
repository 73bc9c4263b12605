// A document's own indentation (tabs or spaces, and how many), so that what we insert looks like
// the code around it: the model learned mostly space-indented code and writes spaces even in a
// tab-indented file, or its usual width in a file that uses another.
import { opensBlock } from './stop';

export interface IndentStyle {
  tabs: boolean;
  /** Spaces per level (with tabs: the width a tab stands for, VS Code's default tab size). */
  size: number;
}

/** VS Code's default tab size: how many of the model's spaces one tab replaces. */
export const TAB_SIZE = 4;

/** Widths of one indentation level we recognise; deltas outside are alignment, not levels. */
const MIN_LEVEL = 2;
const MAX_LEVEL = 8;

export function leadingWhitespace(line: string): string {
  return /^[ \t]*/.exec(line)![0];
}

/** Width of leading whitespace with tabs counted as TAB_SIZE. */
function width(ws: string): number {
  let w = 0;
  for (const ch of ws) w += ch === '\t' ? TAB_SIZE : 1;
  return w;
}

/**
 * The indentation a text uses, as VS Code guesses it: tabs when more lines start with a tab than
 * with spaces, else the most common step between consecutive indented lines; undefined when no
 * line is indented (nothing to match).
 */
export function detectIndent(text: string): IndentStyle | undefined {
  let tabLines = 0;
  let spaceLines = 0;
  const steps = new Map<number, number>();
  let previous = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const ws = leadingWhitespace(line);
    if (ws.startsWith('\t')) tabLines++;
    // One space is a block comment's ` *`, not indentation.
    else if (ws.length > 1) spaceLines++;
    if (!ws.includes('\t')) {
      const step = Math.abs(ws.length - previous);
      if (step >= MIN_LEVEL && step <= MAX_LEVEL) steps.set(step, (steps.get(step) ?? 0) + 1);
      previous = ws.length;
    }
  }
  if (!tabLines && !spaceLines) return undefined;
  if (tabLines > spaceLines) return { tabs: true, size: TAB_SIZE };
  let size = TAB_SIZE;
  let best = 0;
  for (const [step, n] of steps) if (n > best || (n === best && step < size)) [size, best] = [step, n];
  return { tabs: false, size };
}

export function indentUnit(style: IndentStyle | undefined): string {
  return style?.tabs ? '\t' : ' '.repeat(style?.size ?? TAB_SIZE);
}

function gcd(a: number, b: number): number {
  return b ? gcd(b, a % b) : a;
}

/**
 * Re-indents the lines a completion starts (every line after its first, which continues the
 * cursor line) in the document's style. Widths relative to the cursor line are levels of the
 * completion's own step (their common divisor); when that step is another common width than
 * the document's (2 vs 4), levels are rescaled. Then the style: tabs for spaces in a tab file,
 * spaces for tabs in a space file.
 */
export function reindent(completion: string, cursorLine: string, style: IndentStyle): string {
  const lines = completion.split('\n');
  if (lines.length < 2) return completion;
  const base = width(leadingWhitespace(cursorLine));
  const widths = lines.map((l) => width(leadingWhitespace(l)));
  const step = widths.slice(1).reduce((g, w, i) => (lines[i + 1].trim() ? gcd(g, Math.abs(w - base)) : g), 0);
  const rescale = !style.tabs && step !== style.size && [2, 4].includes(step) && [2, 4].includes(style.size);
  return lines.map((line, i) => {
    if (i === 0 || !line.trim()) return line;
    const ws = leadingWhitespace(line);
    const w = rescale ? Math.max(0, base + ((widths[i] - base) / step) * style.size) : widths[i];
    const indent = style.tabs ? '\t'.repeat(Math.floor(w / TAB_SIZE)) + ' '.repeat(w % TAB_SIZE) : ' '.repeat(w);
    return indent + line.slice(ws.length);
  }).join('\n');
}

/**
 * Indentation for code written on a new line at the cursor: one level deeper than a line that
 * opens a block (the cursor line, or the last non-blank line above a blank cursor line), else
 * the cursor line's own.
 */
export function newLineIndent(prefix: string, style: IndentStyle | undefined): string {
  let start = prefix.lastIndexOf('\n') + 1;
  const cursorLine = prefix.slice(start);
  const own = leadingWhitespace(cursorLine);
  if (cursorLine.trim()) return opensBlock(prefix) ? own + indentUnit(style) : own;
  let above = '';
  while (start > 0 && !above.trim()) {
    const end = start - 1; // the newline that ends the line above
    start = end > 0 ? prefix.lastIndexOf('\n', end - 1) + 1 : 0;
    above = prefix.slice(start, end);
  }
  if (!opensBlock(above)) return own;
  // Whitespace already typed on the cursor line stays; the deeper indent only pads it.
  const deeper = leadingWhitespace(above) + indentUnit(style);
  return deeper.length > own.length && deeper.startsWith(own) ? deeper : own;
}

/**
 * What Generate Code inserts at the cursor before the model's code: the start of a line at the
 * indentation code needs there (a new line after code, padding on a blank line) and, unless the
 * instruction is a comment in the file already, the instruction as a comment line.
 */
export function generationLead(prefix: string, style: IndentStyle | undefined, comment?: string): string {
  const indent = newLineIndent(prefix, style);
  const cursorLine = prefix.slice(prefix.lastIndexOf('\n') + 1);
  const start = cursorLine.trim() ? '\n' + indent : indent.slice(cursorLine.length);
  return start + (comment === undefined ? '' : `${comment}\n${indent}`);
}
