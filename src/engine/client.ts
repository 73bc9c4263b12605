// The engine as the rest of the product sees it: a worker thread behind promises. One model
// load, one request in flight, the newest request wins, and every request can be cancelled
// (AbortSignal); a cancelled request rejects with EngineError('cancelled').
import './telemetry'; // first: turns onnxruntime telemetry off before it loads
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import type { CompletionRequest, CompletionResult, EngineInfo, LoadOptions } from './engine';
import { EngineError } from './errors';
import type { TextEdit } from './document-cache';
import { DocumentRequest, FromWorker, nowMs, ToWorker, WorkerRequest } from './protocol';

export type TimedResult = CompletionResult & { queueMs: number };

interface Pending { resolve: (v: any) => void; reject: (e: Error) => void }

/** How long dispose() waits for the worker to finish its current token and exit before terminating it. */
export const SHUTDOWN_GRACE_MS = 2000;

export class EngineClient {
  private readonly worker: Worker;
  private readonly control = new SharedArrayBuffer(4);
  private readonly latest = new Int32Array(this.control);
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: EngineError | undefined;
  private stopping = false;
  /**
   * Settles when the worker thread has ended: with the error its requests failed with when it
   * ended on its own (a crash), undefined when dispose() ended it.
   */
  readonly exited: Promise<EngineError | undefined>;

  constructor(workerPath = path.join(__dirname, 'worker.js')) {
    this.worker = new Worker(workerPath, { workerData: { control: this.control } });
    this.worker.on('message', (m: FromWorker) => this.onMessage(m));
    this.worker.on('error', (e) => this.die(new EngineError('crashed', `The engine worker failed: ${e.message}`)));
    this.exited = new Promise((resolve) => this.worker.once('exit', (code) => {
      this.die(new EngineError('crashed', `The engine worker stopped unexpectedly (exit code ${code}); the requests it was working on are lost.`));
      resolve(this.stopping ? undefined : this.dead);
    }));
  }

  private die(e: EngineError): void {
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

  private post<T>(make: (id: number) => WorkerRequest, id = this.nextId++): Promise<T> {
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

  /** Fault injection for tests: the worker exits with `code` as soon as it reads this, like a crash. */
  simulateCrash(code = 70): void {
    this.send({ type: 'exit', code });
  }

  private send(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  /**
   * Stops the worker without terminating it inside a native run, which would abort the whole
   * process: every request is cancelled, the worker stops at its next token, releases its session
   * and exits. Only a worker that has not exited within `graceMs` is terminated.
   */
  async dispose(graceMs = SHUTDOWN_GRACE_MS): Promise<void> {
    this.stopping = true;
    this.die(new EngineError('cancelled', 'The engine was shut down.'));
    this.cancelAll();
    this.send({ type: 'shutdown' });
    // Unreferenced: a worker that exits in time leaves no timer keeping the process alive.
    const ended = await Promise.race([this.exited.then(() => true), sleep(graceMs, false, { ref: false })]);
    if (!ended) await this.worker.terminate();
  }
}
