// Context and prompt stages: cut prefix/suffix windows around the cursor that fit token budgets
// and lay them out as a suffix-first (SPM) FIM prompt.
//
// Windows start and end on line boundaries that move in steps of whole lines, so typing at the
// cursor leaves the start of the prompt unchanged and the engine can reuse its cached tokens.
import { fimTokens, headerText } from './fim';
import { SPECIAL_IDS } from './special-tokens';
import type { CodeTokenizer } from './tokenizer';

export interface ContextWindow { prefix: string; suffix: string }

export interface Budgets { prefixTokens: number; suffixTokens: number }

/** Lines the prefix window is aligned to: its first line only moves in steps of this many lines. */
export const WINDOW_LINE_STEP = 16;

/**
 * The prefix window: whole lines from an aligned start line up to the cursor, dropping aligned
 * groups of lines from the top until an estimated token count fits.
 */
export function prefixWindow(prefix: string, maxChars: number): string {
  if (prefix.length <= maxChars) return prefix;
  const lineStarts = [0];
  for (let i = prefix.indexOf('\n'); i >= 0; i = prefix.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const cursorLine = lineStarts.length - 1;
  // Start on a multiple of WINDOW_LINE_STEP, the latest one that still keeps the window under budget.
  for (let start = Math.floor(cursorLine / WINDOW_LINE_STEP) * WINDOW_LINE_STEP; start >= 0; start -= WINDOW_LINE_STEP) {
    if (prefix.length - lineStarts[start] > maxChars) {
      const next = start + WINDOW_LINE_STEP;
      if (next <= cursorLine) return prefix.slice(lineStarts[next]);
      break;
    }
    if (start === 0) return prefix;
  }
  // A single huge line: keep its tail.
  return prefix.slice(prefix.length - maxChars);
}

/** The suffix window: text after the cursor up to a line end, at most maxChars. */
export function suffixWindow(suffix: string, maxChars: number): string {
  if (suffix.length <= maxChars) return suffix;
  const cut = suffix.lastIndexOf('\n', maxChars);
  return suffix.slice(0, cut > 0 ? cut + 1 : maxChars);
}

export interface Prompt { tokens: number[]; prefixTokens: number; suffixTokens: number; snippetTokens: number; prefixText: string; suffixText: string }

/** Tokens of the header (the path's tail) a prompt keeps: a long path must not push it past the window. */
export const HEADER_TOKENS = 12;

/** Prompt tokens besides prefix, suffix and snippet: the file separator, the header and three FIM markers. */
export const PROMPT_OVERHEAD = HEADER_TOKENS + 4;

/** ~3 characters per token on code (measured 2.9 on the validation split); prompts trim by tokens after. */
export const CHARS_PER_TOKEN = 3;

/** A retrieved snippet for the prompt and the most tokens it may take (it is cut from the top). */
export interface PromptSnippet { path: string; text: string; maxTokens: number }

/**
 * Token ids of the SPM prompt; trims further (by lines) when the char estimate was too generous.
 * A snippet goes first as a whole sample of its own (`<|file_sep|>path\n text <|endoftext|>`),
 * as consecutive samples sit in the training windows.
 */
export async function buildPrompt(tok: CodeTokenizer, path: string, ctx: ContextWindow, budgets: Budgets, snippet?: PromptSnippet): Promise<Prompt> {
  let prefixText = prefixWindow(ctx.prefix, budgets.prefixTokens * CHARS_PER_TOKEN);
  let suffixText = suffixWindow(ctx.suffix, budgets.suffixTokens * CHARS_PER_TOKEN);
  let [header, prefix, suffix, snippetHeader, snippetBody] = await tok.encodeMany([headerText(path), prefixText, suffixText, headerText(snippet?.path ?? ''), snippet?.text ?? '']);
  header = header.slice(-HEADER_TOKENS);
  while (prefix.length > budgets.prefixTokens) {
    const nl = prefixText.indexOf('\n');
    // Cut at least one character: a short line of many tokens would otherwise never shrink.
    prefixText = nl >= 0 && nl < prefixText.length - 1 ? prefixText.slice(nl + 1) : prefixText.slice(Math.max(1, Math.floor(prefixText.length / 4)));
    prefix = await tok.encode(prefixText);
  }
  while (suffix.length > budgets.suffixTokens) {
    const nl = suffixText.lastIndexOf('\n', suffixText.length - 2);
    suffixText = nl > 0 ? suffixText.slice(0, nl + 1) : suffixText.slice(0, Math.floor((suffixText.length * 3) / 4));
    suffix = await tok.encode(suffixText);
  }
  let lead: number[] = [];
  if (snippet) {
    let text = snippet.text;
    while (snippetBody.length > snippet.maxTokens - snippetHeader.length - 2 && text) {
      const nl = text.indexOf('\n');
      text = nl >= 0 && nl < text.length - 1 ? text.slice(nl + 1) : '';
      snippetBody = text ? await tok.encode(text) : [];
    }
    if (snippetBody.length) lead = [SPECIAL_IDS.fileSep, ...snippetHeader, ...snippetBody, SPECIAL_IDS.endOfText];
  }
  const tokens = [...lead, ...fimTokens('spm', { header: [SPECIAL_IDS.fileSep, ...header], prefix, suffix })];
  return { tokens, prefixTokens: prefix.length, suffixTokens: suffix.length, snippetTokens: lead.length, prefixText, suffixText };
}
