// Suggestions shown in this session, with their compute accounting: the data behind the
// status bar and the compute panel.
import * as vscode from 'vscode';
import type { TimedResult } from '../engine/client';
import type { SuggestionRecord } from './api';

const KEEP = 200;

export class SuggestionHistory {
  private readonly records: SuggestionRecord[] = [];
  private nextId = 1;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly acceptedEmitter = new vscode.EventEmitter<SuggestionRecord>();
  /** A suggestion the user kept (Tab on ghost text, or a generated preview accepted). */
  readonly onDidAccept = this.acceptedEmitter.event;
  /** Session totals over every suggestion shown, not only the kept ones. */
  private totalFlops = 0;
  private totalDense = 0;
  /** Generated previews the user threw away. */
  private discarded = 0;

  add(kind: SuggestionRecord['kind'], file: string, text: string, r: TimedResult): SuggestionRecord {
    const rec: SuggestionRecord = {
      id: this.nextId++,
      time: new Date().toISOString(),
      file,
      kind,
      text,
      tokens: r.tokens,
      latencyMs: r.queueMs + r.timing.totalMs,
      tokensPerSecond: r.timing.tokensPerSecond,
      flops: r.compute.flops,
      denseFlops: r.compute.denseFlops,
      computeSaved: r.compute.saved,
      kvEntriesSaved: r.compute.kvEntriesSaved,
      accepted: false,
      grid: r.compute.grid,
      perBlock: r.compute.perBlock,
      promptTokens: r.timing.promptTokens,
      cache: r.cache,
    };
    this.records.unshift(rec);
    if (this.records.length > KEEP) this.records.pop();
    this.totalFlops += rec.flops;
    this.totalDense += rec.denseFlops;
    this.changed.fire();
    return rec;
  }

  markAccepted(id: number): void {
    const rec = this.records.find((r) => r.id === id);
    if (rec && !rec.accepted) {
      rec.accepted = true;
      this.acceptedEmitter.fire(rec);
      this.changed.fire();
    }
  }

  /** A generated preview ended without being kept (its record stays unaccepted); called once per preview. */
  markDiscarded(): void {
    this.discarded++;
    this.changed.fire();
  }

  list(): SuggestionRecord[] {
    return [...this.records];
  }

  latest(): SuggestionRecord | undefined {
    return this.records[0];
  }

  session(): { suggestions: number; accepted: number; discarded: number; flops: number; denseFlops: number; computeSaved: number } {
    return {
      suggestions: this.nextId - 1,
      accepted: this.records.filter((r) => r.accepted).length,
      discarded: this.discarded,
      flops: this.totalFlops,
      denseFlops: this.totalDense,
      computeSaved: this.totalDense > 0 ? 1 - this.totalFlops / this.totalDense : 0,
    };
  }

  dispose(): void {
    this.changed.dispose();
    this.acceptedEmitter.dispose();
  }
}
