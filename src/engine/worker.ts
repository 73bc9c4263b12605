// Engine worker thread: onnxruntime-node's run() blocks its thread for the whole call, so the
// model lives here and the caller's thread (the editor's extension host) never waits on it.
// Requests run one at a time; the newest wins: `latest` (shared memory) holds the newest request
// id, and a running completion stops before its next token once a newer one arrives.
import { parentPort, workerData } from 'node:worker_threads';
import { CompletionEngine } from './engine';
import { EngineError } from './errors';
import { FromWorker, nowMs, ToWorker } from './protocol';

const latest = new Int32Array(workerData.control as SharedArrayBuffer);
let engine: CompletionEngine | undefined;
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
  } else {
    if (!engine) throw new EngineError('input', 'No model is loaded.');
    const startedAt = nowMs();
    const isCancelled = () => Atomics.load(latest, 0) > m.id;
    if (isCancelled()) throw new EngineError('cancelled', 'cancelled');
    const result = await engine.complete(m.req, isCancelled);
    send({ type: 'result', id: m.id, result, queueMs: startedAt - m.sentAt });
  }
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
