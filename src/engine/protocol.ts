// Messages between the engine client (caller's thread) and the engine worker.
import type { TextEdit } from './document-cache';
import type { CompletionRequest, CompletionResult, EngineInfo, LoadOptions } from './engine';

/** A position in a document the worker holds, at the version the caller last synced. */
export interface DocumentRef { uri: string; version: number; offset: number }

/** A completion in a synced document: prefix and suffix come from the worker's copy of it. */
export type DocumentRequest = Omit<CompletionRequest, 'prefix' | 'suffix'> & { document: DocumentRef };

/** Messages the worker answers, one at a time in order, each with a reply carrying its id. */
export type WorkerRequest =
  | { type: 'load'; id: number; opts: LoadOptions }
  | { type: 'complete'; id: number; req: CompletionRequest | DocumentRequest; sentAt: number }
  | { type: 'reset'; id: number }
  | { type: 'open'; id: number; uri: string; languageId: string; version: number; text: string }
  | { type: 'edit'; id: number; uri: string; from: number; to: number; edits: TextEdit[] }
  | { type: 'close'; id: number; uri: string };

/** Everything the client sends: requests, and control messages that act on arrival, outside the queue, with no reply. */
export type ToWorker =
  | WorkerRequest
  /** Drop the queue, let the running request stop at its next token, release the session, exit. */
  | { type: 'shutdown' }
  /** Fault injection for tests: exit at once with this code, as a crash would (between native runs). */
  | { type: 'exit'; code: number };

export type FromWorker =
  | { type: 'loaded'; id: number; info: EngineInfo }
  | { type: 'result'; id: number; result: CompletionResult; queueMs: number }
  | { type: 'done'; id: number }
  | { type: 'error'; id: number; code: string; message: string };

/** Wall-clock milliseconds comparable across threads of one process. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
