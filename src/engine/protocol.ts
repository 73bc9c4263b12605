// Messages between the engine client (caller's thread) and the engine worker.
import type { CompletionRequest, CompletionResult, EngineInfo, LoadOptions } from './engine';

export type ToWorker =
  | { type: 'load'; id: number; opts: LoadOptions }
  | { type: 'complete'; id: number; req: CompletionRequest; sentAt: number }
  | { type: 'reset'; id: number };

export type FromWorker =
  | { type: 'loaded'; id: number; info: EngineInfo }
  | { type: 'result'; id: number; result: CompletionResult; queueMs: number }
  | { type: 'done'; id: number }
  | { type: 'error'; id: number; code: string; message: string };

/** Wall-clock milliseconds comparable across threads of one process. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
