// "MoD Complete: Generate Code": an instruction (input box, the selected comment, or a command
// argument) becomes a comment the model continues; the code is inserted at the cursor as one
// undo step, with progress and cancellation, and accounted like any suggestion. The insertion is
// a preview (highlighted, with Accept / Discard lenses and keys) until the user decides; the
// history counts it accepted only then.
import * as vscode from 'vscode';
import { isCancelled } from '../engine/errors';
import { generationLead } from '../engine/indent';
import { postProcess, ruleContext } from '../engine/postprocess';
import type { SuggestionRecord } from './api';
import { readSettings } from './config';
import type { EngineHost } from './engine-host';
import type { SuggestionHistory } from './history';
import { type Span, trackSpan } from './tracked-span';
import { cancelledLine, decisionLine, requestLine } from './view-model';

const HASH_COMMENT = new Set(['python', 'shellscript', 'ruby', 'perl', 'r', 'yaml', 'toml', 'makefile', 'dockerfile', 'powershell', 'coffeescript', 'julia', 'elixir']);

export function commentPrefix(languageId: string): string {
  return HASH_COMMENT.has(languageId) ? '#' : '//';
}

/** The text of a selected comment (line or block), or undefined when the selection is code. */
export function commentText(selected: string): string | undefined {
  const lines = selected.trim().split('\n').map((l) => l.trim());
  if (!lines[0]) return undefined;
  if (lines.every((l) => /^(#|\/\/)/.test(l))) return lines.map((l) => l.replace(/^(#+|\/\/+)\s?/, '')).join(' ').trim();
  const block = /^\/\*+([\s\S]*?)\*+\/$/.exec(lines.join('\n'));
  if (block) return block[1].split('\n').map((l) => l.replace(/^\s*\*\s?/, '')).join(' ').trim();
  const doc = /^("""|''')([\s\S]*?)\1$/.exec(lines.join('\n'));
  return doc ? doc[2].replace(/\s+/g, ' ').trim() : undefined;
}

/** The context key that enables the Accept / Discard keybindings: a preview is in the active editor. */
const PENDING_KEY = 'modComplete.generationPending';

interface Pending { doc: vscode.TextDocument; span: Span; text: string; rec: SuggestionRecord }

/**
 * The one pending preview of generated code. It ends accepted (Accept; or the user moved on:
 * edited inside it, ran Generate again, reloaded the model, closed the document) or discarded
 * (Discard, or an undo that took the insertion back out).
 */
export class GenerationPreview implements vscode.Disposable {
  private pending: Pending | undefined;
  private contextValue = false;
  private readonly decoration = vscode.window.createTextEditorDecorationType({
    backgroundColor: new vscode.ThemeColor('diffEditor.insertedTextBackground'),
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.addedForeground'),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
  });
  private readonly lensesChanged = new vscode.EventEmitter<void>();
  private readonly subs: vscode.Disposable[];

  constructor(private readonly history: SuggestionHistory, private readonly log: vscode.LogOutputChannel) {
    this.subs = [
      this.decoration,
      this.lensesChanged,
      vscode.languages.registerCodeLensProvider('*', { onDidChangeCodeLenses: this.lensesChanged.event, provideCodeLenses: (doc) => this.lenses(doc) }),
      vscode.workspace.onDidChangeTextDocument((e) => this.changed(e)),
      vscode.workspace.onDidCloseTextDocument((doc) => doc === this.pending?.doc && this.accept('document closed')),
      vscode.window.onDidChangeVisibleTextEditors(() => this.render()),
      vscode.window.onDidChangeActiveTextEditor(() => this.render()),
    ];
  }

  /** `text` was just inserted at offset `start` of `doc` (the caller accepted any earlier preview before inserting). */
  begin(doc: vscode.TextDocument, start: number, text: string, rec: SuggestionRecord): void {
    // A second generation that ran alongside this one may have landed meanwhile.
    this.accept('another generation');
    this.pending = { doc, span: { start, end: start + text.length }, text, rec };
    // An edit that slipped in between the insertion and now cannot be followed: keep the code, with no preview.
    if (doc.getText(this.range(this.pending)) !== text) {
      this.accept('the document changed during the insertion');
      return;
    }
    this.render();
    this.lensesChanged.fire();
  }

  accept(why?: string): boolean {
    const p = this.end();
    if (p) this.kept(p, why);
    return !!p;
  }

  /** Deletes exactly the generated text, as its own undo step (Undo brings it back). */
  async discard(): Promise<boolean> {
    const p = this.end();
    if (!p) return false;
    const range = this.range(p);
    const edit = new vscode.WorkspaceEdit();
    edit.delete(p.doc.uri, range);
    // The span followed every edit since the insertion; a mismatch would mean a missed event, and deleting then could take the user's text.
    const ok = p.doc.getText(range) === p.text && (await vscode.workspace.applyEdit(edit));
    if (ok) this.discarded(p);
    else {
      this.kept(p, 'Discard could not remove it');
      void vscode.window.showWarningMessage('MoD Complete: the generated code could not be removed and stays in the file (undo or delete it by hand).');
    }
    return ok;
  }

  private kept(p: Pending, why?: string): void {
    this.history.markAccepted(p.rec.id);
    this.log.info(decisionLine(p.rec, 'accepted', why));
  }

  private discarded(p: Pending, why?: string): void {
    this.history.markDiscarded();
    this.log.info(decisionLine(p.rec, 'discarded', why));
  }

  private end(): Pending | undefined {
    const p = this.pending;
    this.pending = undefined;
    if (p) {
      this.render();
      this.lensesChanged.fire();
    }
    return p;
  }

  private changed(e: vscode.TextDocumentChangeEvent): void {
    const p = this.pending;
    if (!p || e.document !== p.doc || !e.contentChanges.length) return;
    const fate = trackSpan(p.span, e.contentChanges);
    if (fate.kind === 'moved') {
      p.span = fate.span;
      this.render();
    } else if (fate.kind === 'edited') {
      this.accept('edited');
    } else {
      this.end();
      this.discarded(p, 'removed from the document');
    }
  }

  private range(p: Pending): vscode.Range {
    return new vscode.Range(p.doc.positionAt(p.span.start), p.doc.positionAt(p.span.end));
  }

  private render(): void {
    const p = this.pending;
    for (const editor of vscode.window.visibleTextEditors) {
      if (p && editor.document === p.doc) editor.setDecorations(this.decoration, [this.range(p)]);
      else editor.setDecorations(this.decoration, []);
    }
    const active = !!p && vscode.window.activeTextEditor?.document === p.doc;
    if (active !== this.contextValue) {
      this.contextValue = active;
      void vscode.commands.executeCommand('setContext', PENDING_KEY, active);
    }
  }

  /** Accept / Discard above the first line of the code itself (the preview may begin with a line break). */
  private lenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const p = this.pending;
    if (!p || doc !== p.doc) return [];
    const first = doc.positionAt(p.span.start + p.text.search(/\S|$/));
    const at = new vscode.Range(first, first);
    const mod = process.platform === 'darwin' ? 'Cmd' : 'Ctrl';
    return [
      new vscode.CodeLens(at, { title: `$(check) Accept generated code (${mod}+Enter)`, command: 'modComplete.acceptGeneration' }),
      new vscode.CodeLens(at, { title: '$(discard) Discard (Escape)', command: 'modComplete.discardGeneration' }),
    ];
  }

  dispose(): void {
    this.subs.forEach((d) => d.dispose());
  }
}

export async function generateCode(host: EngineHost, history: SuggestionHistory, preview: GenerationPreview, log: vscode.LogOutputChannel, instructionArg?: string): Promise<boolean> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showWarningMessage('MoD Complete: open a file to generate code into.');
    return false;
  }
  if (!host.client) {
    void vscode.window.showWarningMessage(`MoD Complete: the model is not loaded${host.error ? ` (${host.error})` : ''}.`);
    return false;
  }
  const doc = editor.document;
  const selectedComment = instructionArg ? undefined : commentText(doc.getText(editor.selection));
  const instruction = instructionArg ?? selectedComment ?? (await vscode.window.showInputBox({
    title: 'MoD Complete: Generate Code',
    prompt: 'Describe the code to generate at the cursor',
    placeHolder: 'e.g. a function that returns the n-th Fibonacci number',
  }));
  if (!instruction?.trim()) return false;
  const at = selectedComment ? editor.selection.end : editor.selection.active;
  const text = doc.getText();
  const offset = doc.offsetAt(at);
  const before = text.slice(0, offset);
  // Start on a line indented for the cursor's block; without a selected comment, write the instruction as one first.
  const suffix = text.slice(offset);
  const { indent } = ruleContext({ prefix: before, suffix });
  const lead = generationLead(before, indent, selectedComment ? undefined : `${commentPrefix(doc.languageId)} ${instruction.trim()}`);
  const prefix = before + lead;
  const s = readSettings();
  const file = vscode.workspace.asRelativePath(doc.uri);
  const where = `${file}:${at.line + 1}:${at.character + 1}`;
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'MoD Complete: generating code', cancellable: true },
    async (_progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      host.generationInFlight = true;
      const started = performance.now();
      try {
        const r = await host.track(host.client!.complete({ path: file, prefix, suffix, mode: 'multiline', maxTokens: 256, maxLines: 40, budget: s.computeBudget, avoidStart: commentPrefix(doc.languageId) }, abort.signal));
        const code = postProcess(r.text, { prefix, suffix });
        if (!code.trim()) {
          log.info(requestLine(where, 'generate', 'empty', r));
          void vscode.window.showInformationMessage('MoD Complete: the model produced no code for that instruction.');
          return false;
        }
        // In the document's own line breaks, so that the preview's length is what lands in it.
        const inserted = (lead + code).replace(/\r?\n/g, doc.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n');
        const start = doc.offsetAt(at);
        // Settled before our insertion, which the earlier preview would otherwise take for the user's edit.
        preview.accept('another generation');
        const ok = await editor.edit((e) => e.insert(at, inserted), { undoStopBefore: true, undoStopAfter: true });
        const rec = history.add('generate', file, code, r);
        log.info(requestLine(where, 'generate', 'generated', r, rec.id));
        if (!ok) return false;
        preview.begin(doc, start, inserted, rec);
        return true;
      } catch (e) {
        if (isCancelled(e)) log.info(cancelledLine(where, 'generate', performance.now() - started));
        else {
          log.error(`generation failed: ${(e as Error).message}`);
          void vscode.window.showErrorMessage(`MoD Complete: generation failed: ${(e as Error).message}`);
        }
        return false;
      } finally {
        host.generationInFlight = false;
      }
    },
  );
}
