// Keeps an engine worker running. When its thread ends on its own (a crash, an exit), the
// requests it was working on fail with EngineError('crashed') (the client does that) and a new
// worker loads the same model after a backoff that doubles with each crash in a row. No VS Code
// here: the extension uses it, and the CLI or any long-lived caller can.
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineClient } from './client';
import type { EngineInfo, LoadOptions } from './engine';
import { EngineError } from './errors';

export interface RestartPolicy {
  /** Delay before the first restart, doubled for each further crash in a row up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Crashes in a row after which it stops restarting (a worker that dies on every load). */
  maxRestarts: number;
  /** A worker that served this long before it crashed starts the count of crashes in a row afresh. */
  stableMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { baseDelayMs: 500, maxDelayMs: 8000, maxRestarts: 5, stableMs: 60_000 };

export interface SupervisorEvents {
  /** The worker ended on its own (or a restart failed to load); the next try follows in `retryInMs`. */
  crashed?(error: EngineError, retryInMs: number): void;
  /** A new worker loaded the model after a crash. */
  restarted?(info: EngineInfo): void;
  /** maxRestarts crashes in a row: no more restarts. */
  gaveUp?(error: EngineError): void;
}

export class EngineSupervisor {
  /** The worker thread owned now, loading or serving: the one dispose() stops. */
  private worker: EngineClient | undefined;
  private serving: EngineClient | undefined;
  private servingSince = 0;
  private crashesInARow = 0;
  private readonly stopped = new AbortController();

  constructor(
    private readonly opts: LoadOptions,
    private readonly events: SupervisorEvents = {},
    private readonly workerPath?: string,
    private readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY,
  ) {}

  /** The worker with the model loaded; undefined while a new one is started, after giving up or dispose(). */
  get client(): EngineClient | undefined {
    return this.serving;
  }

  /** Starts the first worker. Its load error is thrown, not retried: a model that cannot load stays unloadable. */
  start(): Promise<EngineInfo> {
    return this.spawn();
  }

  private async spawn(): Promise<EngineInfo> {
    const client = new EngineClient(this.workerPath);
    this.worker = client;
    let info: EngineInfo;
    try {
      info = await client.load(this.opts);
    } catch (e) {
      await client.dispose();
      throw e;
    }
    this.serving = client;
    this.servingSince = performance.now();
    void client.exited.then((e) => {
      if (e && this.worker === client && !this.stopped.signal.aborted) void this.recover(e);
    });
    return info;
  }

  private async recover(error: EngineError): Promise<void> {
    this.serving = undefined;
    if (performance.now() - this.servingSince >= this.policy.stableMs) this.crashesInARow = 0;
    for (;;) {
      if (this.crashesInARow >= this.policy.maxRestarts) {
        this.worker = undefined;
        this.events.gaveUp?.(new EngineError('crashed', `The engine worker stopped ${this.crashesInARow} times in a row, so it is not restarted again; the last time: ${error.message}`));
        return;
      }
      const delay = Math.min(this.policy.baseDelayMs * 2 ** this.crashesInARow++, this.policy.maxDelayMs);
      this.events.crashed?.(error, delay);
      try {
        await sleep(delay, undefined, { signal: this.stopped.signal });
        const info = await this.spawn();
        this.events.restarted?.(info);
        return;
      } catch (e) {
        if (this.stopped.signal.aborted) return;
        error = e instanceof EngineError ? e : new EngineError('crashed', String(e));
      }
    }
  }

  /** Stops restarting and shuts the worker down gracefully (see EngineClient.dispose). */
  async dispose(): Promise<void> {
    this.stopped.abort();
    this.serving = undefined;
    await this.worker?.dispose();
  }
}
