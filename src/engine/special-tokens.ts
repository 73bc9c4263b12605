// Special tokens of every MoD Complete model. Ids are fixed (0..4) so that the training data,
// the exported model and the engine agree without a lookup.
export const SPECIAL_TOKENS = {
  endOfText: '<|endoftext|>',
  fimPrefix: '<|fim_prefix|>',
  fimMiddle: '<|fim_middle|>',
  fimSuffix: '<|fim_suffix|>',
  fileSep: '<|file_sep|>',
} as const;

export type SpecialName = keyof typeof SPECIAL_TOKENS;

export const SPECIAL_IDS: Record<SpecialName, number> = {
  endOfText: 0,
  fimPrefix: 1,
  fimMiddle: 2,
  fimSuffix: 3,
  fileSep: 4,
};

export const SPECIAL_LIST: string[] = (Object.keys(SPECIAL_IDS) as SpecialName[])
  .sort((a, b) => SPECIAL_IDS[a] - SPECIAL_IDS[b])
  .map((k) => SPECIAL_TOKENS[k]);
