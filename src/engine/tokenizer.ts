// Tokenizer of a model package: encoding through `tokenizers` (the BPE it was trained with) and a
// synchronous byte-level decoder, so generation can turn each new token into text without an
// async round trip and without breaking multi-byte characters split across tokens.
import * as fs from 'node:fs';
import { Tokenizer } from 'tokenizers';
import { byteLevelAlphabet } from './byte-level';
import { EngineError } from './errors';

export class CodeTokenizer {
  private readonly bytes: Uint8Array[];

  private constructor(private readonly tok: Tokenizer, json: any) {
    const inverse = new Map<string, number>();
    byteLevelAlphabet().forEach((c, b) => inverse.set(c, b));
    const vocab = json.model.vocab as Record<string, number>;
    const size = Math.max(...Object.values(vocab)) + 1;
    this.bytes = new Array(size).fill(new Uint8Array(0));
    for (const [token, id] of Object.entries(vocab)) {
      if (token.startsWith('<|') && token.endsWith('|>')) continue; // specials decode to nothing
      this.bytes[id] = Uint8Array.from([...token].map((ch) => inverse.get(ch) ?? 63));
    }
  }

  static load(path: string): CodeTokenizer {
    let json: any;
    try {
      json = JSON.parse(fs.readFileSync(path, 'utf8'));
    } catch (e) {
      throw new EngineError('model-corrupt', `The tokenizer ${path} cannot be read: ${(e as Error).message}`);
    }
    return new CodeTokenizer(Tokenizer.fromString(JSON.stringify(json)), json);
  }

  get vocabSize(): number {
    return this.bytes.length;
  }

  async encode(text: string): Promise<number[]> {
    if (!text) return [];
    return (await this.tok.encode(text)).getIds();
  }

  async encodeMany(texts: string[]): Promise<number[][]> {
    const nonEmpty = texts.filter((t) => t.length > 0);
    const encs = nonEmpty.length ? await this.tok.encodeBatch(nonEmpty) : [];
    let i = 0;
    return texts.map((t) => (t.length ? encs[i++].getIds() : []));
  }

  tokenBytes(id: number): Uint8Array {
    return this.bytes[id] ?? new Uint8Array(0);
  }

  decode(ids: number[]): string {
    const d = new TextDecoder('utf-8');
    return ids.map((id) => d.decode(this.tokenBytes(id), { stream: true })).join('') + d.decode();
  }
}

/** Incremental UTF-8 decoding of generated tokens. */
export class TokenStreamDecoder {
  private readonly dec = new TextDecoder('utf-8');
  text = '';

  constructor(private readonly tok: CodeTokenizer) {}

  push(id: number): string {
    const piece = this.dec.decode(this.tok.tokenBytes(id), { stream: true });
    this.text += piece;
    return piece;
  }
}
