// Where an inserted text sits after later edits of its document, by offsets as VS Code reports
// them (TextDocumentContentChangeEvent): what Discard has to delete, so that it removes the
// generated code and nothing the user typed elsewhere, and whether the user edited or removed it.
export interface Span { start: number; end: number }

export interface OffsetChange { rangeOffset: number; rangeLength: number; text: string }

export type SpanFate =
  | { kind: 'moved'; span: Span }
  /** A change touched the inside of the span (the user works with the text). */
  | { kind: 'edited' }
  /** One change replaced the whole span (an undo of the insertion, or a delete over it). */
  | { kind: 'removed' };

/**
 * Follows `span` through one event's changes, applied in order as VS Code applies them. Text
 * inserted exactly at either edge stays outside: typing on after the code does not grow it.
 */
export function trackSpan(span: Span, changes: readonly OffsetChange[]): SpanFate {
  let { start, end } = span;
  for (const c of changes) {
    const changeEnd = c.rangeOffset + c.rangeLength;
    if (changeEnd <= start) {
      const shift = c.text.length - c.rangeLength;
      start += shift;
      end += shift;
    } else if (c.rangeOffset >= end) {
      continue;
    } else if (c.rangeOffset <= start && changeEnd >= end) {
      return { kind: 'removed' };
    } else {
      return { kind: 'edited' };
    }
  }
  return { kind: 'moved', span: { start, end } };
}
