// Word completion from the user's own identifiers. With the cursor inside a word ("add_argum|"),
// the word most often ends as an identifier that already occurs in the file or the open files
// (on held-out code, 51 of 86 mid-word cursors; the most frequent such identifier is the right
// one in 45 of them), while the model, which sees 512 tokens and spells identifiers by BPE
// pieces, often ends it some other way ("add_argumpt("). So while decoding stays inside that
// word, the next-token distribution is mixed with one that spreads each known identifier's
// share over the tokens that spell it on (weighted by the model's own probabilities among
// them, so the model still picks the tokenization):
//   p'(t) = p(t) · ((1 - λ) + λ · Σ_c q_c · [t spells c on] / Z_c),   Z_c = Σ_{t spells c on} p(t)
// with q_c the identifiers' shares of the counts and λ growing with the counts.
import { logSumExp } from './cache-mix';
import type { CodeTokenizer } from './tokenizer';

const WORD_CHAR = /[\w$]/;
/** Identifiers as the caches and the snippet retrieval count them (JavaScript/TypeScript/Python alike). */
export const IDENTIFIERS = /[A-Za-z_$][\w$]*/g;

/** Identifiers of one chunk of text, sorted, with their counts: a prefix lookup is a binary search. */
export class ChunkWords {
  readonly words: string[];
  readonly counts: Int32Array;

  constructor(text: string) {
    const m = new Map<string, number>();
    for (const w of text.match(IDENTIFIERS) ?? []) m.set(w, (m.get(w) ?? 0) + 1);
    this.words = [...m.keys()].sort();
    this.counts = Int32Array.from(this.words.map((w) => m.get(w)!));
  }

  /** Adds `factor` x the count of every identifier that begins with `head` to `into`. */
  collect(head: string, into: Map<string, number>, factor = 1): void {
    let lo = 0;
    let hi = this.words.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.words[mid] < head) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.words.length && this.words[i].startsWith(head); i++) into.set(this.words[i], (into.get(this.words[i]) ?? 0) + factor * this.counts[i]);
  }
}

/** The identifier the text before the cursor ends inside of, with the offset it starts at. */
export function partialWord(prefix: string): { word: string; start: number } | undefined {
  const m = /[A-Za-z_$][\w$]*$/.exec(prefix.slice(-256));
  if (!m) return undefined;
  const start = prefix.length - m[0].length;
  // "0x1f", "9abc": not an identifier.
  if (start > 0 && WORD_CHAR.test(prefix[start - 1])) return undefined;
  return { word: m[0], start };
}

export interface WordWeights {
  /** Largest weight of the identifier distribution. */
  max: number;
  /** Summed count at which it gets half of `max`. */
  halfCount: number;
  /** Factor on counts from other open files. */
  workspace: number;
  /** Identifiers considered, most frequent first. */
  top: number;
}

export const DEFAULT_WORD_WEIGHTS: WordWeights = { max: 0.6, halfCount: 1, workspace: 0.5, top: 8 };

/** Each token's text (empty for special tokens and partial UTF-8: they spell no identifier) and the length of its leading run of word characters. */
interface Spellings { texts: string[]; runs: Int32Array }
const spellings = new WeakMap<CodeTokenizer, Spellings>();

function spellingsOf(tok: CodeTokenizer, vocab: number, firstNormal: number): Spellings {
  let t = spellings.get(tok);
  if (!t) {
    const dec = new TextDecoder();
    const texts = Array.from({ length: vocab }, (_, id) => {
      if (id < firstNormal) return '';
      const s = dec.decode(tok.tokenBytes(id));
      return s.includes('\uFFFD') ? '' : s;
    });
    t = { texts, runs: Int32Array.from(texts, wordRun) };
    spellings.set(tok, t);
  }
  return t;
}

function wordRun(s: string): number {
  let k = 0;
  while (k < s.length && WORD_CHAR.test(s[k])) k++;
  return k;
}

/**
 * Whether a token continues a word whose rest is `rest`: it stays inside it, or ends it exactly.
 * `run`: the token's leading run of word characters.
 */
export function continues(token: string, rest: string, run = wordRun(token)): boolean {
  return run === token.length ? rest.startsWith(token) : run === rest.length && token.startsWith(rest);
}

/** Per completion: mixes the identifiers that extend the cursor's word into the steps that spell it. */
export class WordMixer {
  private readonly sp: Spellings;
  private readonly candidates: [string, number][];
  private readonly lambda: number;
  private done = false;

  /**
   * `counts`: identifiers beginning with the partial word and their (weighted) counts; `wordStart`:
   * where that word starts in the text that decoding appends to.
   */
  constructor(tok: CodeTokenizer, vocab: number, firstNormal: number, counts: Map<string, number>, private readonly wordStart: number, w: WordWeights = DEFAULT_WORD_WEIGHTS) {
    this.sp = spellingsOf(tok, vocab, firstNormal);
    this.candidates = [...counts].sort((a, b) => b[1] - a[1]).slice(0, w.top);
    const total = this.candidates.reduce((n, [, c]) => n + c, 0);
    this.lambda = total > 0 ? w.max * (total / (total + w.halfCount)) : 0;
    if (this.lambda <= 0) this.done = true;
  }

  /**
   * Rewrites the first n logits in place. `text`: the text the next token is appended to (the
   * prompt's text before any healed token, plus what decoding wrote). Returns whether it mixed.
   */
  mix(logits: Float32Array, n: number, text: string): boolean {
    if (this.done) return false;
    const sofar = text.length >= this.wordStart ? text.slice(this.wordStart) : undefined;
    // Out of the word: it has ended, nothing more to do.
    if (sofar !== undefined && wordRun(sofar) < sofar.length) this.done = true;
    const live = this.done ? [] : this.candidates.filter(([c]) => sofar === undefined || c.startsWith(sofar));
    if (!live.length) {
      this.done = true;
      return false;
    }
    // Before the word is reached (a healed token that began earlier), a token is judged by its part inside the word.
    const lead = this.wordStart - text.length;
    const rests = live.map(([c]) => (sofar === undefined ? c : c.slice(sofar.length)));
    const logZ = logSumExp(logits, n);
    const total = live.reduce((a, [, c]) => a + c, 0);
    const extra = new Float64Array(n);
    // Tokens that end before the word begins say nothing about it and keep their weight.
    const neutral = new Uint8Array(n);
    const hits: number[][] = live.map(() => []);
    const z = new Float64Array(live.length);
    const { texts, runs } = this.sp;
    for (let id = 0; id < n; id++) {
      let t = texts[id];
      if (!t) continue;
      let run = runs[id];
      if (sofar === undefined) {
        if (t.length <= lead) {
          neutral[id] = 1;
          continue;
        }
        t = t.slice(lead);
        run = wordRun(t);
      }
      for (let k = 0; k < live.length; k++) if (continues(t, rests[k], run)) {
        hits[k].push(id);
        z[k] += Math.exp(logits[id] - logZ);
      }
    }
    hits.forEach((h, k) => {
      if (z[k] > 0) for (const id of h) extra[id] += live[k][1] / total / z[k];
    });
    // Every token that writes into the word is scaled by (1 - λ) + λ · (its share of the identifiers).
    const l = this.lambda;
    for (let id = 0; id < n; id++) {
      if (neutral[id]) continue;
      const f = 1 - l + l * extra[id];
      logits[id] = f > 0 ? logits[id] + Math.log(f) : -Infinity;
    }
    return true;
  }
}
