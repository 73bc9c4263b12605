// Stop rules applied to the text generated so far. Each returns the length of text to keep
// when generation must stop, or undefined to go on.

export const COMPLETION_MODES = ['line', 'multiline'] as const;
export type CompletionMode = (typeof COMPLETION_MODES)[number];

export interface StopContext {
  mode: CompletionMode;
  /** Indentation (leading whitespace width) of the line the cursor is on. */
  cursorIndent: number;
  /** Whether the cursor line, before the cursor, opens a block (ends with {, (, [, : or =>). */
  opensBlock: boolean;
  maxLines: number;
}

export function indentWidth(line: string): number {
  let w = 0;
  for (const ch of line) {
    if (ch === ' ') w++;
    else if (ch === '\t') w += 4;
    else break;
  }
  return w;
}

/** Single-line requests end at the first newline. */
export function stopAtLineEnd(text: string, ctx: StopContext): number | undefined {
  if (ctx.mode !== 'line') return undefined;
  const nl = text.indexOf('\n');
  return nl >= 0 ? nl : undefined;
}

/** Multi-line requests end after maxLines complete lines. */
export function stopAtLineBudget(text: string, ctx: StopContext): number | undefined {
  if (ctx.mode !== 'multiline') return undefined;
  let count = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) if (++count >= ctx.maxLines) return i;
  return undefined;
}

/**
 * Multi-line requests end when a complete later line dedents below the scope the cursor is in
 * (below the cursor line's indent, or to it when the cursor line opened a block whose body we write).
 */
export function stopAtScopeEnd(text: string, ctx: StopContext): number | undefined {
  if (ctx.mode !== 'multiline') return undefined;
  const lines = text.split('\n');
  let offset = lines[0].length + 1;
  for (let i = 1; i < lines.length - 1; i++) {
    const line = lines[i];
    if (line.trim()) {
      const ind = indentWidth(line);
      // Closing the block the cursor opened (e.g. `}` at the opener's indent) is part of the completion.
      const closer = /^\s*[)\]}]/.test(line);
      if (ind < ctx.cursorIndent || (ind === ctx.cursorIndent && ctx.opensBlock && !closer)) return offset - 1;
      if (ind === ctx.cursorIndent && closer && ctx.opensBlock) return offset + line.length;
    }
    offset += line.length + 1;
  }
  return undefined;
}

/** Longest repeating unit the loop rule looks for (a short line of code). */
export const MAX_LOOP_PERIOD = 80;

/**
 * Small models decoding greedily fall into loops (`f(a, b, b, b, b`, `docs/docs/docs/`): stop once
 * the text ends in a unit repeated 3 times (4 for units under 4 characters, which repeat in real
 * code more often) and keep the text up to the end of the unit's first occurrence.
 */
export function stopAtLoop(text: string): number | undefined {
  for (let p = 2; p <= MAX_LOOP_PERIOD; p++) {
    const repeats = p < 4 ? 4 : 3;
    if (text.length < repeats * p) break;
    const end = text.length;
    const unit = text.slice(end - p);
    if (!unit.trim()) continue;
    let periodic = true;
    for (let k = 2; k <= repeats && periodic; k++) periodic = text.slice(end - k * p, end - (k - 1) * p) === unit;
    if (!periodic) continue;
    // The loop may have begun before the last few units (tokens add several characters at once).
    let start = end - repeats * p;
    while (start > 0 && text[start - 1] === text[start - 1 + p]) start--;
    return start + p;
  }
  return undefined;
}

/**
 * The same loop across lines with drifting indentation (`{` opening deeper each time): three
 * complete lines in a row with the same words stop the text after the first of them.
 */
export function stopAtRepeatedLines(text: string): number | undefined {
  const lines = text.split('\n');
  let offset = 0;
  for (let i = 0; i + 3 < lines.length; i++) {
    const t = lines[i].trim();
    // Closers (`}`, `)`) legitimately repeat while nested blocks close.
    if (/\w/.test(t) && lines[i + 1].trim() === t && lines[i + 2].trim() === t) return offset + lines[i].length;
    offset += lines[i].length + 1;
  }
  return undefined;
}

export const STOP_RULES = [stopAtLineEnd, stopAtLineBudget, stopAtScopeEnd, stopAtLoop, stopAtRepeatedLines];

export function applyStopRules(text: string, ctx: StopContext): number | undefined {
  let cut: number | undefined;
  for (const rule of STOP_RULES) {
    const c = rule(text, ctx);
    if (c !== undefined && (cut === undefined || c < cut)) cut = c;
  }
  // Rules cut at a line's `\n`; in CRLF text its `\r` goes too, or a lone `\r` is left behind.
  return cut !== undefined && text[cut - 1] === '\r' ? cut - 1 : cut;
}

/** Completion mode for a cursor: one line when code sits right of the cursor; several lines only
 * where a block opens at the end of the cursor line. */
export function chooseMode(prefix: string, suffix: string): CompletionMode {
  const restOfLine = suffix.split('\n', 1)[0];
  if (restOfLine.trim()) return 'line';
  return opensBlock(prefix) ? 'multiline' : 'line';
}

function cursorLine(prefix: string): string {
  return prefix.slice(prefix.lastIndexOf('\n') + 1);
}

export function opensBlock(prefix: string): boolean {
  return /(\{|\(|\[|:|=>)\s*$/.test(cursorLine(prefix));
}

export function stopContextFor(prefix: string, suffix: string, mode: CompletionMode | 'auto', maxLines: number): StopContext {
  const line = cursorLine(prefix);
  return {
    mode: mode === 'auto' ? chooseMode(prefix, suffix) : mode,
    cursorIndent: indentWidth(line),
    opensBlock: opensBlock(prefix),
    maxLines,
  };
}
