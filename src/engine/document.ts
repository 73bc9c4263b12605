// Documents as the engine accepts them: text split at a cursor, with clear refusals for input
// that cannot be code (binary) or is too large to handle while the user types.
import * as fs from 'node:fs';
import { EngineError } from './errors';

export const MAX_DOCUMENT_BYTES = 8 * 1024 * 1024;

function tooLarge(size: number, name: string): EngineError {
  return new EngineError('input', `${name} is ${(size / 1e6).toFixed(1)} MB; MoD Complete skips files over ${MAX_DOCUMENT_BYTES / 1024 / 1024} MB.`);
}

export function checkText(text: string, name: string): void {
  if (text.length > MAX_DOCUMENT_BYTES) throw tooLarge(text.length, name);
  // The whole text: a NUL anywhere means binary, and one native scan of 8 MB takes about a millisecond.
  if (text.indexOf('\u0000') >= 0) throw new EngineError('input', `${name} looks binary (it contains NUL bytes); MoD Complete only completes text.`);
}

export function readDocument(file: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new EngineError('input', `Cannot read ${file}: no such file.`);
  }
  // Refuse before reading a huge file into memory.
  if (stat.size > MAX_DOCUMENT_BYTES) throw tooLarge(stat.size, file);
  const text = fs.readFileSync(file, 'utf8');
  checkText(text, file);
  return text;
}

/**
 * The offset moved back to the start of the character it falls inside: an offset between the
 * two halves of a surrogate pair (an emoji) would leave each side a lone half, which the
 * tokenizer turns into U+FFFD.
 */
export function snapToCodePoint(text: string, offset: number): number {
  const high = text.charCodeAt(offset - 1);
  const low = text.charCodeAt(offset);
  return high >= 0xd800 && high <= 0xdbff && low >= 0xdc00 && low <= 0xdfff ? offset - 1 : offset;
}

/**
 * Splits text at a 1-based line and column (columns count UTF-16 code units, as editors do; a
 * column inside a surrogate pair snaps to its start).
 */
export function splitAtCursor(text: string, line: number, column: number): { prefix: string; suffix: string } {
  const lines = text.split('\n');
  if (!Number.isInteger(line) || line < 1 || line > lines.length) throw new EngineError('input', `Line ${line} is outside the file (1..${lines.length}).`);
  const lineText = lines[line - 1].replace(/\r$/, '');
  if (!Number.isInteger(column) || column < 1 || column > lineText.length + 1) {
    throw new EngineError('input', `Column ${column} is outside line ${line} (1..${lineText.length + 1}).`);
  }
  let offset = 0;
  for (let i = 0; i < line - 1; i++) offset += lines[i].length + 1;
  offset = snapToCodePoint(text, offset + column - 1);
  return { prefix: text.slice(0, offset), suffix: text.slice(offset) };
}
