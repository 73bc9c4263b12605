// The engine as the rest of the product sees it: a worker thread behind promises. One model
// load, one request in flight, the newest request wins, and every request can be cancelled
// (AbortSignal); a cancelled request rejects with EngineError('cancelled').
import './telemetry'; // first: turns onnxruntime telemetry off before it loads
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CompletionRequest, CompletionResult, EngineInfo, LoadOptions } from './engine';
import { EngineError } from './errors';
import type { TextEdit } from './document-cache';
import { DocumentRequest, FromWorker, nowMs, ToWorker } from './protocol';

export type TimedResult = CompletionResult & { queueMs: number };

interface Pending { resolve: (v: any) => void; reject: (e: Error) => void }

export class EngineClient {
  private readonly worker: Worker;
  private readonly control = new SharedArrayBuffer(4);
  private readonly latest = new Int32Array(this.control);
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: Error | undefined;

  constructor(workerPath = path.join(__dirname, 'worker.js')) {
    this.worker = new Worker(workerPath, { workerData: { control: this.control } });
    this.worker.on('message', (m: FromWorker) => this.onMessage(m));
    this.worker.on('error', (e) => this.die(new EngineError('internal', `The engine worker failed: ${e.message}`)));
    this.worker.on('exit', (code) => this.die(new EngineError('internal', `The engine worker exited (code ${code}).`)));
  }

  private die(e: Error): void {
    this.dead ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private onMessage(m: FromWorker): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.type === 'error') p.reject(new EngineError(m.code as EngineError['code'], m.message));
    else if (m.type === 'loaded') p.resolve(m.info);
    else if (m.type === 'result') p.resolve({ ...m.result, queueMs: m.queueMs });
    else p.resolve(undefined);
  }

  private post<T>(make: (id: number) => ToWorker, id = this.nextId++): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(make(id));
    });
  }

  load(opts: LoadOptions): Promise<EngineInfo> {
    return this.post((id) => ({ type: 'load', id, opts }));
  }

  reset(): Promise<void> {
    return this.post((id) => ({ type: 'reset', id }));
  }

  /** Sends a document's whole text (the worker then keeps it in sync from `edit`s). */
  open(uri: string, languageId: string, version: number, text: string): Promise<void> {
    return this.post((id) => ({ type: 'open', id, uri, languageId, version, text }));
  }

  /** Edits taking a synced document from version `from` to `to`, each against the text left by the previous one. */
  edit(uri: string, from: number, to: number, edits: TextEdit[]): Promise<void> {
    return this.post((id) => ({ type: 'edit', id, uri, from, to, edits }));
  }

  close(uri: string): Promise<void> {
    return this.post((id) => ({ type: 'close', id, uri }));
  }

  /**
   * Starts a completion (from prefix and suffix, or at a position of a synced document, which also
   * mixes the document caches into decoding); any older one still running or queued is cancelled.
   */
  complete(req: CompletionRequest | DocumentRequest, signal?: AbortSignal): Promise<TimedResult> {
    if (signal?.aborted) return Promise.reject(new EngineError('cancelled', 'cancelled'));
    const id = this.nextId++;
    Atomics.store(this.latest, 0, id);
    // Aborting cancels this request only while it is still the newest one.
    signal?.addEventListener('abort', () => Atomics.load(this.latest, 0) === id && this.cancelAll(), { once: true });
    return this.post((i) => ({ type: 'complete', id: i, req, sentAt: nowMs() }), id);
  }

  /** Cancels whatever completion is running or queued. */
  cancelAll(): void {
    Atomics.store(this.latest, 0, this.nextId++);
  }

  async dispose(): Promise<void> {
    this.dead ??= new EngineError('internal', 'The engine was shut down.');
    await this.worker.terminate();
  }
}
