// Fill-in-the-middle layouts shared by the training data and the engine's prompts.
//
//   PSM: <|file_sep|>path\n <|fim_prefix|> prefix <|fim_suffix|> suffix <|fim_middle|> middle <|endoftext|>
//   SPM: <|file_sep|>path\n <|fim_prefix|> <|fim_suffix|> suffix <|fim_middle|> prefix middle <|endoftext|>
//
// SPM puts the prefix last and lets the middle continue it directly, so text the user types at
// the cursor only appends tokens to the prompt: the engine reuses the cached prompt and prefills
// just the new tokens. PSM is trained too so the model sees both orders (as in Bavarian et al.).
import { SPECIAL_IDS } from './special-tokens';

export type FimOrder = 'psm' | 'spm';

export interface FimPieces { header: number[]; prefix: number[]; suffix: number[]; middle?: number[] }

/** Token ids of a FIM sequence; without `middle` it is the prompt that ends where generation starts. */
export function fimTokens(order: FimOrder, p: FimPieces): number[] {
  const { fimPrefix, fimSuffix, fimMiddle, endOfText } = SPECIAL_IDS;
  const out = [...p.header];
  if (order === 'psm') out.push(fimPrefix, ...p.prefix, fimSuffix, ...p.suffix, fimMiddle);
  else out.push(fimPrefix, fimSuffix, ...p.suffix, fimMiddle, ...p.prefix);
  if (p.middle) out.push(...p.middle, endOfText);
  return out;
}

/** The header names the file, which tells the model the language. */
export function headerText(path: string): string {
  return path.replace(/\\/g, '/').replace(/\n/g, ' ') + '\n';
}
