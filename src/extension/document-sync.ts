// Keeps the engine worker's copies of documents in sync: a document's whole text goes over once,
// after that only its edits, so a completion request carries a position, not the file. Other
// open documents of the same language go over too: they feed the workspace cache (the worker
// bounds how many it keeps).
import * as vscode from 'vscode';
import type { EngineClient, TimedResult } from '../engine/client';
import { MAX_DOCUMENT_BYTES } from '../engine/document';
import { editsFromChanges } from '../engine/document-cache';
import { EngineError } from '../engine/errors';
import type { DocumentRequest } from '../engine/protocol';

/** Documents worth a workspace cache: real files or untitled buffers of a reasonable size. */
function syncable(doc: vscode.TextDocument): boolean {
  return (doc.uri.scheme === 'file' || doc.uri.scheme === 'untitled') && doc.getText().length <= MAX_DOCUMENT_BYTES;
}

export class DocumentSync implements vscode.Disposable {
  /** Version the worker of `client` holds, by URI. */
  private synced = new Map<string, number>();
  private client: EngineClient | undefined;
  private readonly subs: vscode.Disposable[];

  /** `onDidRestart`: a crashed worker was replaced; its documents go over again at once, so their caches are back for the next request. */
  constructor(private readonly getClient: () => EngineClient | undefined, onDidRestart: vscode.Event<void>) {
    this.subs = [
      vscode.workspace.onDidChangeTextDocument((e) => this.changed(e)),
      vscode.workspace.onDidCloseTextDocument((d) => this.closed(d)),
      onDidRestart(() => this.resend()),
    ];
  }

  private resend(): void {
    const client = this.current();
    if (client) for (const d of vscode.workspace.textDocuments) if (syncable(d)) this.ensure(client, d);
  }

  /** A reloaded model is a new worker with no documents. */
  private current(): EngineClient | undefined {
    const c = this.getClient();
    if (c !== this.client) {
      this.client = c;
      this.synced.clear();
    }
    return c;
  }

  private changed(e: vscode.TextDocumentChangeEvent): void {
    const uri = e.document.uri.toString();
    const from = this.synced.get(uri);
    const client = this.current();
    if (from === undefined || !client || !e.contentChanges.length) return;
    this.synced.set(uri, e.document.version);
    void client.edit(uri, from, e.document.version, editsFromChanges(e.contentChanges)).catch(() => this.synced.delete(uri));
  }

  private closed(doc: vscode.TextDocument): void {
    const uri = doc.uri.toString();
    if (this.synced.delete(uri)) void this.current()?.close(uri).catch(() => undefined);
  }

  /** Sends a document's whole text unless the worker already holds this version. */
  private ensure(client: EngineClient, doc: vscode.TextDocument): void {
    const uri = doc.uri.toString();
    if (this.synced.get(uri) === doc.version) return;
    this.synced.set(uri, doc.version);
    void client.open(uri, doc.languageId, doc.version, doc.getText()).catch(() => this.synced.delete(uri));
  }

  /** Open documents the workspace cache gets for `doc`: same language, not `doc` itself. */
  private others(doc: vscode.TextDocument): vscode.TextDocument[] {
    return vscode.workspace.textDocuments.filter((d) => d !== doc && d.languageId === doc.languageId && syncable(d));
  }

  /**
   * A completion at `offset` of `doc`, from the worker's synced copy with its caches. A worker
   * that lost the document (evicted, restarted) answers stale-document: send it whole, retry once.
   */
  async complete(doc: vscode.TextDocument, offset: number, req: Omit<DocumentRequest, 'document'>, signal: AbortSignal): Promise<TimedResult> {
    const client = this.current();
    if (!client) throw new EngineError('internal', 'The engine is not loaded.');
    for (const d of this.others(doc)) this.ensure(client, d);
    this.ensure(client, doc);
    const ask = () => client.complete({ ...req, document: { uri: doc.uri.toString(), version: doc.version, offset } }, signal);
    try {
      return await ask();
    } catch (e) {
      if (!(e instanceof EngineError) || e.code !== 'stale-document') throw e;
      this.synced.delete(doc.uri.toString());
      this.ensure(client, doc);
      return ask();
    }
  }

  dispose(): void {
    this.subs.forEach((d) => d.dispose());
  }
}
