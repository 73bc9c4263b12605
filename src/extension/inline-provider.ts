// Inline (ghost-text) completions: context around the cursor, an adaptive debounce, cancellation
// on every keystroke, the newest request wins (the engine client cancels older ones), and
// typed-ahead reuse: while the user types the first characters of the shown suggestion, the rest
// is served at once without asking the engine. With the suggest widget open, the completion
// continues the text of its selected item (VS Code shows only such items then).
import * as vscode from 'vscode';
import { checkText } from '../engine/document';
import { isCancelled } from '../engine/errors';
import { postProcess } from '../engine/postprocess';
import { CHARS_PER_TOKEN, prefixWindow, suffixWindow } from '../engine/prompt';
import { languageEnabled, readSettings } from './config';
import type { DocumentSync } from './document-sync';
import type { EngineHost } from './engine-host';
import type { SuggestionHistory } from './history';
import type { Snooze } from './snooze';
import { cancelledLine, decisionLine, requestLine } from './view-model';

/** A suggestion shown: `text` is inserted at `offset`, where the document began with `prefix`. */
interface Shown { uri: string; offset: number; prefix: string; text: string; id: number }

/** The last accepted insertion of a document, which ends at `end`. */
interface Accepted { end: number; text: string }

/**
 * Debounce that waits longer while the user types fast (no work wasted between keystrokes), and
 * only `base` (modComplete.debounceMs) otherwise. It adds to VS Code's own wait: 1.100 asks an
 * inline provider only after 50 ms without a keystroke (a fixed debounce, no setting), so two
 * keystrokes' requests come at least that far apart.
 */
export class AdaptiveDebounce {
  /** Typing counts as fast while the mean gap between requests is below this. */
  private static readonly FAST_GAP_MS = 220;
  /** While typing fast, wait this many mean gaps: the next keystroke usually comes first. */
  private static readonly FAST_FACTOR = 1.5;
  /** Gaps this long are pauses (thinking, reading), not typing speed: the mean stays as it was. */
  private static readonly PAUSE_MS = 600;
  private static readonly MAX_MS = 1000;
  private last = 0;
  private lastKey = '';
  private gap = 250;

  /**
   * `key` names the document version asked about: VS Code asks again for the same keystroke (when
   * the suggest list opens, 100-200 ms on, or the cursor moves), and those asks are no typing gap.
   */
  delay(base: number, key: string, now = Date.now()): number {
    const D = AdaptiveDebounce;
    if (key !== this.lastKey) {
      const g = now - this.last;
      this.last = now;
      this.lastKey = key;
      if (g < D.PAUSE_MS) this.gap = 0.7 * this.gap + 0.3 * g;
    }
    return Math.round(Math.min(D.MAX_MS, Math.max(base, this.gap < D.FAST_GAP_MS ? D.FAST_FACTOR * this.gap : base)));
  }
}

function sleep(ms: number, token: vscode.CancellationToken): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      sub.dispose();
      resolve(true);
    }, ms);
    const sub = token.onCancellationRequested(() => {
      clearTimeout(t);
      sub.dispose();
      resolve(false);
    });
  });
}

export class InlineProvider implements vscode.InlineCompletionItemProvider {
  private shown: Shown | undefined;
  private readonly accepted = new Map<string, Accepted>();
  private readonly debounce = new AdaptiveDebounce();
  private warned = new Set<string>();

  constructor(
    private readonly host: EngineHost,
    private readonly sync: DocumentSync,
    private readonly history: SuggestionHistory,
    private readonly log: vscode.LogOutputChannel,
    private readonly snooze: Snooze,
  ) {
    history.onDidAccept((rec) => {
      if (rec.kind === 'inline') this.log.info(decisionLine(rec, 'accepted'));
      const s = this.shown;
      if (s && rec.id === s.id) this.accepted.set(s.uri, { end: s.offset + s.text.length, text: s.text });
    });
  }

  /**
   * What to insert at `start` from the last suggestion, when the document still holds what it
   * was shown on and the text since then (typed, plus `lead`, the selected list item's text)
   * begins it.
   */
  private typedAhead(uri: string, text: string, start: number, lead: string): string | undefined {
    const s = this.shown;
    if (!s || s.uri !== uri || start < s.offset) return undefined;
    const typed = text.slice(s.offset, start) + lead;
    if (!typed || typed.length >= s.text.length || !s.text.startsWith(typed) || text.slice(0, s.offset) !== s.prefix) return undefined;
    return s.text.slice(start - s.offset);
  }

  async provideInlineCompletionItems(
    doc: vscode.TextDocument,
    pos: vscode.Position,
    ctx: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    const s = readSettings();
    const client = this.host.client;
    if (!s.enable || !client || this.host.generationInFlight || this.snooze.active || !languageEnabled(s, doc.languageId)) return undefined;
    const text = doc.getText();
    try {
      checkText(text, vscode.workspace.asRelativePath(doc.uri));
    } catch (e) {
      if (!this.warned.has(doc.uri.toString())) {
        this.warned.add(doc.uri.toString());
        this.log.warn((e as Error).message);
      }
      return undefined;
    }
    // With the suggest list open, the item must begin with the selected entry's text and replace
    // its range: complete as if that text were already in the document.
    const selected = ctx.selectedCompletionInfo;
    const range = selected?.range ?? new vscode.Range(pos, pos);
    const lead = selected?.text ?? '';
    const start = doc.offsetAt(range.start);
    const prefix = text.slice(0, start) + lead;
    const suffix = text.slice(doc.offsetAt(range.end));
    const uri = doc.uri.toString();
    const rest = this.typedAhead(uri, text, start, lead);
    if (rest) return [this.item(rest, range, this.shown!.id)];
    // Completing in the middle of a word rarely helps and mostly flickers.
    if (ctx.triggerKind === vscode.InlineCompletionTriggerKind.Automatic && /^\w/.test(suffix)) return undefined;
    if (ctx.triggerKind === vscode.InlineCompletionTriggerKind.Automatic) {
      if (!(await sleep(this.debounce.delay(s.debounceMs, `${uri}@${doc.version}`), token))) return undefined;
    }
    const abort = new AbortController();
    const sub = token.onCancellationRequested(() => abort.abort());
    const file = vscode.workspace.asRelativePath(doc.uri);
    const where = `${file}:${pos.line + 1}:${pos.character + 1}`;
    const started = performance.now();
    try {
      const req = {
        path: file, mode: 'auto' as const, maxTokens: s.maxTokens, maxLines: s.maxLines, budget: s.computeBudget,
        prefixTokens: s.prefixTokens, suffixTokens: s.suffixTokens,
      };
      // The worker holds the document (synced edit by edit) and mixes its cache model into
      // decoding; text that is not in the document yet goes with the request, in the windows the
      // prompt can use.
      const r = await this.host.track(selected
        ? client.complete({ ...req, prefix: prefixWindow(prefix, s.prefixTokens * CHARS_PER_TOKEN), suffix: suffixWindow(suffix, s.suffixTokens * CHARS_PER_TOKEN) }, abort.signal)
        : this.sync.complete(doc, start, req, abort.signal));
      if (token.isCancellationRequested) {
        this.log.info(requestLine(where, 'inline', 'cancelled', r));
        return undefined;
      }
      const last = this.accepted.get(uri);
      const justAccepted = last && last.end === start + lead.length && prefix.endsWith(last.text) ? last.text : undefined;
      const completion = postProcess(r.text, { prefix, suffix, accepted: justAccepted });
      if (!completion) {
        this.log.info(requestLine(where, 'inline', 'empty', r));
        return undefined;
      }
      const rec = this.history.add('inline', file, completion, r);
      this.log.info(requestLine(where, 'inline', 'shown', r, rec.id));
      this.shown = { uri, offset: start, prefix: text.slice(0, start), text: lead + completion, id: rec.id };
      return [this.item(lead + completion, range, rec.id)];
    } catch (e) {
      if (isCancelled(e)) this.log.info(cancelledLine(where, 'inline', performance.now() - started));
      else this.log.error(`${where} completion failed: ${(e as Error).message}`);
      return undefined;
    } finally {
      sub.dispose();
    }
  }

  private item(text: string, range: vscode.Range, id: number): vscode.InlineCompletionItem {
    return new vscode.InlineCompletionItem(text, range, { command: 'modComplete.accepted', title: 'Accepted', arguments: [id] });
  }
}
