// "MoD Complete: Generate Code": an instruction (input box, the selected comment, or a command
// argument) becomes a comment the model continues; the code is inserted at the cursor as one
// undo step, with progress and cancellation, and accounted like any suggestion.
import * as vscode from 'vscode';
import { isCancelled } from '../engine/errors';
import { generationLead } from '../engine/indent';
import { postProcess, ruleContext } from '../engine/postprocess';
import { readSettings } from './config';
import type { EngineHost } from './engine-host';
import type { SuggestionHistory } from './history';

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

export async function generateCode(host: EngineHost, history: SuggestionHistory, log: vscode.LogOutputChannel, instructionArg?: string): Promise<boolean> {
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
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'MoD Complete: generating code', cancellable: true },
    async (_progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      host.generationInFlight = true;
      try {
        const r = await host.track(host.client!.complete({ path: file, prefix, suffix, mode: 'multiline', maxTokens: 256, maxLines: 40, budget: s.computeBudget, avoidStart: commentPrefix(doc.languageId) }, abort.signal));
        const code = postProcess(r.text, { prefix, suffix });
        if (!code.trim()) {
          void vscode.window.showInformationMessage('MoD Complete: the model produced no code for that instruction.');
          return false;
        }
        const ok = await editor.edit((e) => e.insert(at, lead + code), { undoStopBefore: true, undoStopAfter: true });
        const rec = history.add('generate', file, code, r);
        if (ok) history.markAccepted(rec.id);
        return ok;
      } catch (e) {
        if (!isCancelled(e)) {
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
