// Token healing. A prompt that ends mid-token (the cursor inside a word, or after indentation)
// ends on a token boundary the model rarely saw in training: "    " followed by "const" was
// always tokenized as "   " + " const". So the prompt's last token is taken back and generation
// must first re-create its bytes, with whatever tokens fit best; those bytes are then dropped
// from the completion.
import type { CodeTokenizer } from './tokenizer';

function startsWith(a: Uint8Array, b: Uint8Array): boolean {
  if (b.length > a.length) return false;
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class TokenHealer {
  private pending: Uint8Array;

  constructor(private readonly tok: CodeTokenizer, removed: Uint8Array, readonly text: string, private readonly firstNormal: number) {
    this.pending = removed;
  }

  /** Takes back the last prompt token when it decodes to whole characters; returns undefined otherwise. */
  static fromPrompt(tok: CodeTokenizer, tokens: number[], firstNormal: number): TokenHealer | undefined {
    const last = tokens[tokens.length - 1];
    if (last === undefined || last < firstNormal) return undefined;
    const bytes = tok.tokenBytes(last);
    const text = new TextDecoder('utf-8').decode(bytes);
    if (!bytes.length || text.includes('\uFFFD')) return undefined;
    tokens.pop();
    return new TokenHealer(tok, bytes, text, firstNormal);
  }

  get active(): boolean {
    return this.pending.length > 0;
  }

  /** The most likely token consistent with the bytes still to re-create. */
  pick(logits: Float32Array, vocab: number): number {
    let best = -1;
    let bv = -Infinity;
    for (let id = this.firstNormal; id < vocab; id++) {
      if (logits[id] <= bv) continue;
      const b = this.tok.tokenBytes(id);
      if (b.length && (startsWith(b, this.pending) || startsWith(this.pending, b))) {
        best = id;
        bv = logits[id];
      }
    }
    return best;
  }

  accept(id: number): void {
    const b = this.tok.tokenBytes(id);
    this.pending = b.length >= this.pending.length ? new Uint8Array(0) : this.pending.subarray(b.length);
  }

  /** The completion proper: generated text without the re-created bytes. */
  strip(generated: string): string {
    return generated.length > this.text.length ? generated.slice(this.text.length) : '';
  }
}
