// What the extension's activate() returns: a small read-only view for tests and other extensions.
import type { CacheUse } from '../engine/cache-mix';
import type { ComputeGrid } from '../engine/engine';

/** 'restarting': the engine worker stopped and a new one is being started (see error). */
export type ExtensionStatus = 'loading' | 'ready' | 'generating' | 'disabled' | 'restarting' | 'error';

/** One suggestion (inline or generated) as the status bar and the compute panel show it. */
export interface SuggestionRecord {
  id: number;
  /** ISO time the suggestion was shown. */
  time: string;
  /** Workspace-relative path of the document. */
  file: string;
  kind: 'inline' | 'generate';
  text: string;
  tokens: number;
  latencyMs: number;
  tokensPerSecond: number;
  /** FLOPs executed, and what the same weights would spend with every block on. */
  flops: number;
  denseFlops: number;
  /** 1 - flops / denseFlops. */
  computeSaved: number;
  kvEntriesSaved: number;
  accepted: boolean;
  /** Which routed blocks ran for each generated token. */
  grid: ComputeGrid;
  /** Per block: tokens it ran for / tokens it saw (prompt and generation). */
  perBlock: { block: number; routed: boolean; ran: number; tokens: number }[];
  /** Tokens of the prompt the model saw. */
  promptTokens: number;
  /** The cache model's context and, per generated token, where it changed the model's choice. */
  cache?: CacheUse;
}

export interface StateSnapshot {
  status: ExtensionStatus;
  /** Execution provider in use (cpu, cuda, webgpu, dml, coreml). */
  provider?: string;
  /** Why the model could not load, when status is 'error'; why the worker stopped, when 'restarting'. */
  error?: string;
  /** The status bar item's text as shown. */
  statusText: string;
  budget: string;
  sessionComputeSaved: number;
}

export interface ModCompleteApi {
  /** Resolves once the current model load finished (whether it succeeded or not). */
  whenLoaded(): Promise<void>;
  state(): StateSnapshot;
  /** Newest first. */
  history(): SuggestionRecord[];
}
