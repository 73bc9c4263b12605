// Engine worker thread: onnxruntime-node's run() blocks its thread for the whole call, so the
// model lives here and the caller's thread (the editor's extension host) never waits on it.
// Requests run one at a time; the newest wins: `latest` (shared memory) holds the newest request
// id, and a running completion stops before its next token once a newer one arrives.
import './telemetry'; // first: turns onnxruntime telemetry off before it loads
import { parentPort, workerData } from 'node:worker_threads';
import { DocumentStore } from './document-cache';
import { CompletionEngine, type CompletionResult } from './engine';
import { EngineError } from './errors';
import { DocumentRequest, FromWorker, nowMs, ToWorker } from './protocol';

const latest = new Int32Array(workerData.control as SharedArrayBuffer);
let engine: CompletionEngine | undefined;
// Documents synced by the editor; edits arrive in order with the requests, so a request sees its version.
const store = new DocumentStore((texts) => engine!.tokenizer.encodeMany(texts));
const queue: ToWorker[] = [];
let busy = false;

function send(m: FromWorker): void {
  parentPort!.postMessage(m);
}

function fail(id: number, e: unknown): void {
  const code = e instanceof EngineError ? e.code : 'internal';
  send({ type: 'error', id, code, message: e instanceof Error ? e.message : String(e) });
}

async function handle(m: ToWorker): Promise<void> {
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
  const text = doc.text;
  if (offset < 0 || offset > text.length) throw new EngineError('input', `Offset ${offset} is outside ${uri}.`);
  const caches = await store.prepare(uri, offset);
  const { document: _ref, ...rest } = req;
  return e.complete({ ...rest, prefix: text.slice(0, offset), suffix: text.slice(offset) }, isCancelled, caches);
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
}

parentPort!.on('message', (m: ToWorker) => {
  queue.push(m);
  void pump();
});
