/** An error with a message meant for users: what went wrong and what to do about it. */
export class EngineError extends Error {
  constructor(
    readonly code: 'model-missing' | 'model-corrupt' | 'model-version' | 'provider' | 'cancelled' | 'input' | 'internal'
      /** The worker does not hold the document version a request names: send the whole text again. */
      | 'stale-document'
      /** The worker thread ended (crashed or exited) before the request finished. */
      | 'crashed',
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

export function isCancelled(e: unknown): boolean {
  return e instanceof EngineError && e.code === 'cancelled';
}
