/** GPT-2's reversible map from bytes to printable characters, used by the ByteLevel pre-tokenizer. */
export function byteLevelAlphabet(): string[] {
  const keep = new Set<number>();
  for (let b = 33; b <= 126; b++) keep.add(b);
  for (let b = 161; b <= 172; b++) keep.add(b);
  for (let b = 174; b <= 255; b++) keep.add(b);
  const chars: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) chars[b] = keep.has(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++);
  return chars;
}
