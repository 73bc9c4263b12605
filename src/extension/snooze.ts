// Snooze: inline completions pause until a set time. The end time is kept in globalState, so a
// reload does not bring completions back early. No vscode import (the store is structurally a
// Memento), so node tests cover the timing.
export const SNOOZE_MINUTES = [5, 15, 60] as const;

const KEY = 'modComplete.snoozedUntil';
const MINUTE = 60_000;

/** What Snooze needs of vscode.Memento. */
export interface SnoozeStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void>;
}

/** Whole minutes left, rounded up: a snooze shows "1m" until its very end, never "0m". */
export function minutesLeft(ms: number): number {
  return Math.ceil(ms / MINUTE);
}

export class Snooze {
  private until: number;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly store: SnoozeStore, private readonly now: () => number = Date.now) {
    const stored = store.get<unknown>(KEY);
    this.until = typeof stored === 'number' && Number.isFinite(stored) ? stored : 0;
    this.schedule();
  }

  /** Milliseconds until completions resume; 0 when not snoozed. */
  remainingMs(): number {
    return Math.max(0, this.until - this.now());
  }

  get active(): boolean {
    return this.remainingMs() > 0;
  }

  snooze(minutes: number): Promise<void> {
    return this.set(this.now() + minutes * MINUTE);
  }

  resume(): Promise<void> {
    return this.set(0);
  }

  /** Fires when a snooze starts or ends, and once a minute while one runs (the status bar counts down). */
  onDidChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private async set(until: number): Promise<void> {
    this.until = until;
    this.schedule();
    this.fire();
    await this.store.update(KEY, until || undefined);
  }

  private fire(): void {
    for (const l of [...this.listeners]) l();
  }

  /** Wakes when the minutes shown change and when the snooze ends (then clears the stored end). */
  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const left = this.remainingMs();
    if (left <= 0) {
      if (this.until) {
        this.until = 0;
        void this.store.update(KEY, undefined);
      }
      return;
    }
    this.timer = setTimeout(() => {
      this.schedule();
      this.fire();
    }, left % MINUTE || MINUTE);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.listeners.clear();
  }
}
