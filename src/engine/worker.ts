// Engine worker thread: onnxruntime-node's run() blocks its thread for the whole call, so the
// model lives here and the caller's thread (the editor's extension host) never waits on it.
// Requests run one at a time; the newest wins: `latest` (shared memory) holds the newest request
// id, and a running completion stops before its next token once a newer one arrives.
// run() blocks this thread, so messages are only ever handled between native runs: a shutdown
// or a test's exit never lands inside one (terminating a thread there aborts the whole process).
import './telemetry'; // first: turns onnxruntime telemetry off before it loads
import { parentPort, workerData } from 'node:worker_threads';
import { DocumentStore } from './document-cache';
import { CompletionEngine, type CompletionResult } from './engine';
import { EngineError } from './errors';
import { DocumentRequest, FromWorker, nowMs, ToWorker, WorkerRequest } from './protocol';

const latest = new Int32Array(workerData.control as SharedArrayBuffer);
let engine: CompletionEngine | undefined;
// Documents synced by the editor; edits arrive in order with the requests, so a request sees its version.
const store = new DocumentStore((texts) => engine!.tokenizer.encodeMany(texts));
const queue: WorkerRequest[] = [];
let busy = false;
let stopping = false;

function send(m: FromWorker): void {
  parentPort!.postMessage(m);
}

function fail(id: number, e: unknown): void {
  const code = e instanceof EngineError ? e.code : 'internal';
  send({ type: 'error', id, code, message: e instanceof Error ? e.message : String(e) });
}

async function handle(m: WorkerRequest): Promise<void> {
  if (m.type === 'load') {
    engine = await CompletionEngine.load(m.opts);
    send({ type: 'loaded', id: m.id, info: engine.info });
  } else if (m.type === 'reset') {
    engine?.reset();
    send({ type: 'done', id: m.id });
  } else if (m.type === 'open') {
    store.open(m.uri, m.languageId, m.text, m.version);
    send({ type: 'done', id: m.id });
  } else if (m.type === 'edit') {
    store.edit(m.uri, m.from, m.to, m.edits);
    send({ type: 'done', id: m.id });
  } else if (m.type === 'close') {
    store.close(m.uri);
    send({ type: 'done', id: m.id });
  } else {
    if (!engine) throw new EngineError('input', 'No model is loaded.');
    const startedAt = nowMs();
    const isCancelled = () => Atomics.load(latest, 0) > m.id;
    if (isCancelled()) throw new EngineError('cancelled', 'cancelled');
    const result = 'document' in m.req ? await completeInDocument(engine, m.req, isCancelled) : await engine.complete(m.req, isCancelled);
    send({ type: 'result', id: m.id, result, queueMs: startedAt - m.sentAt });
  }
}

/** A completion at a position of a synced document, with its caches mixed into decoding. */
async function completeInDocument(e: CompletionEngine, req: DocumentRequest, isCancelled: () => boolean): Promise<CompletionResult> {
  const { uri, version, offset } = req.document;
  const doc = store.get(uri);
  if (!doc || doc.version !== version) throw new EngineError('stale-document', `${uri} version ${version} is not synced.`);
  if (offset < 0 || offset > doc.length) throw new EngineError('input', `Offset ${offset} is outside ${uri}.`);
  const caches = await store.prepare(uri, offset);
  const { document: _ref, ...rest } = req;
  // Only the text the completion can read, not a join of the whole document per request.
  return e.complete({ ...rest, ...doc.around(offset, e.contextChars) }, isCancelled, caches);
}

async function pump(): Promise<void> {
  if (busy) return;
  busy = true;
  while (queue.length) {
    const m = queue.shift()!;
    try {
      await handle(m);
    } catch (e) {
      fail(m.id, e);
    }
  }
  busy = false;
  if (stopping) await stop();
}

/** Releases the model's native memory, then ends the thread; only called between requests. */
async function stop(): Promise<void> {
  try {
    await engine?.model.session.release();
  } finally {
    process.exit(0);
  }
}

parentPort!.on('message', (m: ToWorker) => {
  if (m.type === 'exit') process.exit(m.code);
  if (m.type === 'shutdown') {
    if (stopping) return;
    // The client has rejected everything it sent: nothing queued needs an answer.
    stopping = true;
    queue.length = 0;
    if (!busy) void stop();
    return;
  }
  queue.push(m);
  void pump();
});
