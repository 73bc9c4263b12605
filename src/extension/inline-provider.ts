// Inline (ghost-text) completions: context around the cursor, an adaptive debounce, cancellation
// on every keystroke, the newest request wins (the engine client cancels older ones), and
// typed-ahead reuse: while the user types the first characters of the shown suggestion, the rest
// is served at once without asking the engine.
import * as vscode from 'vscode';
import { checkText } from '../engine/document';
import { isCancelled } from '../engine/errors';
import { postProcess } from '../engine/postprocess';
import { languageEnabled, readSettings } from './config';
import type { DocumentSync } from './document-sync';
import type { EngineHost } from './engine-host';
import type { SuggestionHistory } from './history';

interface Shown { uri: string; offset: number; prefix: string; text: string; id: number }

/** Debounce that waits longer while the user types fast (no work wasted between keystrokes). */
export class AdaptiveDebounce {
  private last = 0;
  private gap = 250;

  delay(base: number, now = Date.now()): number {
    const g = now - this.last;
    this.last = now;
    if (g < 1500) this.gap = 0.7 * this.gap + 0.3 * g;
    return Math.round(Math.min(1000, Math.max(base, this.gap < 200 ? 1.5 * this.gap : base)));
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
  private readonly debounce = new AdaptiveDebounce();
  private warned = new Set<string>();

  constructor(private readonly host: EngineHost, private readonly sync: DocumentSync, private readonly history: SuggestionHistory, private readonly log: vscode.LogOutputChannel) {}

  /** The rest of the last suggestion when the user has typed its beginning since it was shown. */
  private typedAhead(uri: string, offset: number, prefix: string): string | undefined {
    const s = this.shown;
    if (!s || s.uri !== uri || offset <= s.offset || offset - s.offset >= s.text.length) return undefined;
    const typed = prefix.slice(s.offset);
    if (prefix.slice(0, s.offset) !== s.prefix || !s.text.startsWith(typed)) return undefined;
    return s.text.slice(typed.length);
  }

  async provideInlineCompletionItems(
    doc: vscode.TextDocument,
    pos: vscode.Position,
    ctx: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    const s = readSettings();
    const client = this.host.client;
    if (!s.enable || !client || this.host.generationInFlight || !languageEnabled(s, doc.languageId)) return undefined;
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
    const offset = doc.offsetAt(pos);
    const prefix = text.slice(0, offset);
    const suffix = text.slice(offset);
    const uri = doc.uri.toString();
    const rest = this.typedAhead(uri, offset, prefix);
    if (rest) return [this.item(rest, pos, this.shown!.id)];
    // Completing in the middle of a word rarely helps and mostly flickers.
    if (ctx.triggerKind === vscode.InlineCompletionTriggerKind.Automatic && /^\w/.test(suffix)) return undefined;
    if (ctx.triggerKind === vscode.InlineCompletionTriggerKind.Automatic) {
      if (!(await sleep(this.debounce.delay(s.debounceMs), token))) return undefined;
    }
    const abort = new AbortController();
    const sub = token.onCancellationRequested(() => abort.abort());
    try {
      const file = vscode.workspace.asRelativePath(doc.uri);
      // The worker holds the document (synced edit by edit) and mixes its cache model into decoding.
      const r = await this.host.track(this.sync.complete(doc, offset, {
        path: file, mode: 'auto', maxTokens: s.maxTokens, maxLines: s.maxLines, budget: s.computeBudget,
        prefixTokens: s.prefixTokens, suffixTokens: s.suffixTokens,
      }, abort.signal));
      if (token.isCancellationRequested) return undefined;
      const shown = postProcess(r.text, { prefix, suffix });
      this.log.debug(`${file}:${pos.line + 1}:${pos.character + 1} ${r.tokens} tokens in ${(r.queueMs + r.timing.totalMs).toFixed(0)} ms, saved ${(100 * r.compute.saved).toFixed(1)}%, reused ${r.timing.reusedTokens}/${r.timing.promptTokens} prompt tokens`);
      if (!shown) return undefined;
      const rec = this.history.add('inline', file, shown, r);
      this.shown = { uri, offset, prefix, text: shown, id: rec.id };
      return [this.item(shown, pos, rec.id)];
    } catch (e) {
      if (!isCancelled(e)) this.log.error(`completion failed: ${(e as Error).message}`);
      return undefined;
    } finally {
      sub.dispose();
    }
  }

  private item(text: string, pos: vscode.Position, id: number): vscode.InlineCompletionItem {
    return new vscode.InlineCompletionItem(text, new vscode.Range(pos, pos), { command: 'modComplete.accepted', title: 'Accepted', arguments: [id] });
  }
}
