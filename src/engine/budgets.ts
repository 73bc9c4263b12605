/** Compute budgets: the probability a routed block's predictor must exceed for the block to run. */
export const COMPUTE_BUDGETS = { quality: 0.3, balanced: 0.5, fast: 0.7, full: -1 } as const;
export type ComputeBudget = keyof typeof COMPUTE_BUDGETS;
