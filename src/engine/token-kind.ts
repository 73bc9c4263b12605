// What kind of code each token is, for the routing report (docs/reports/routing.md: which tokens
// the routed blocks spend compute on) and the compute panel (the suggestion's tokens coloured by
// kind). One small lexer over the tokens' joined text, so a word inside a string or a comment
// counts as string or comment, and the text before the tokens sets where the lexer starts.
// Deliberately rough: template literals count as strings whole (with their ${} expressions), and
// regular expression literals as operators and words.

export const TOKEN_KINDS = ['identifier', 'keyword', 'operator', 'whitespace', 'string', 'number', 'comment'] as const;
/** 'operator' covers punctuation; 'whitespace' covers newlines and indentation. */
export type TokenKind = (typeof TOKEN_KINDS)[number];

const [IDENT, KEYWORD, OPERATOR, WHITESPACE, STRING, NUMBER, COMMENT] = TOKEN_KINDS.map((_, i) => i);

interface Syntax {
  lineComment: string[];
  blockComment?: [string, string];
  quotes: string;
  /** Python: triple-quoted strings and string prefixes (r, b, f, ...). */
  python?: boolean;
  keywords: Set<string>;
}

const words = (s: string) => new Set(s.split(' '));
const PYTHON: Syntax = {
  lineComment: ['#'], quotes: '\'"', python: true,
  keywords: words('False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'),
};
const JS: Syntax = {
  lineComment: ['//'], blockComment: ['/*', '*/'], quotes: '\'"`',
  keywords: words('break case catch class const continue debugger default delete do else export extends false finally for function if import in instanceof new null return super switch this throw true try typeof var void while with yield let static async await of ' +
    'interface type enum implements namespace declare readonly private protected public abstract as keyof infer satisfies override any unknown never boolean number string symbol bigint undefined'),
};
const C_FAMILY: Syntax = {
  lineComment: ['//'], blockComment: ['/*', '*/'], quotes: '\'"`',
  keywords: words('if else for while do switch case default break continue return goto struct union enum typedef sizeof static const extern int char float double long short unsigned signed void bool true false null nullptr ' +
    'class public private protected new delete this throw try catch finally namespace using template virtual override final import package interface extends implements func var type fn let mut impl trait pub use mod match loop self go chan select defer range'),
};
const HASH: Syntax = { lineComment: ['#'], quotes: '\'"', keywords: new Set() };
const PLAIN: Syntax = { lineComment: [], quotes: '\'"', keywords: new Set() };

const BY_EXTENSION: Record<string, Syntax> = {};
for (const [syntax, exts] of [
  [PYTHON, 'py pyi pyw'], [JS, 'js jsx mjs cjs ts tsx mts cts'],
  [C_FAMILY, 'c h cc cpp cxx hpp java cs go rs kt swift scala dart'], [HASH, 'sh bash zsh rb pl r yaml yml toml'],
] as const) for (const e of exts.split(' ')) BY_EXTENSION[e] = syntax;

function syntaxOf(path: string): Syntax {
  return BY_EXTENSION[path.slice(path.lastIndexOf('.') + 1).toLowerCase()] ?? PLAIN;
}

const NUMBER_RE = /(?:0[xX][\da-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?)[nNjJlLuUfF]*/y;
const WORD_RE = /[\p{L}_$][\p{L}\p{N}_$]*/uy;
const STRING_PREFIX_RE = /[rRbBuUfF]{1,2}(?=['"])/y;
const SPACE_RE = /\s+/y;

function matchAt(re: RegExp, text: string, i: number): number {
  re.lastIndex = i;
  return re.exec(text) ? re.lastIndex : i;
}

/** End (exclusive) of the string literal opening at `q`; single-quoted ones end at the line's end. */
function stringEnd(text: string, q: number, s: Syntax): number {
  const quote = text[q];
  const triple = s.python && text.startsWith(quote.repeat(3), q);
  const close = triple ? quote.repeat(3) : quote;
  for (let j = q + close.length; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text.startsWith(close, j)) return j + close.length;
    else if (text[j] === '\n' && !triple && quote !== '`') return j;
  }
  return text.length;
}

/** The kind of every UTF-16 unit of `text`, as indices into TOKEN_KINDS. */
function lex(text: string, s: Syntax): Uint8Array {
  const out = new Uint8Array(text.length);
  let i = 0;
  while (i < text.length) {
    const space = matchAt(SPACE_RE, text, i);
    const prefixEnd = s.python ? matchAt(STRING_PREFIX_RE, text, i) : i;
    let end = i + 1;
    let kind = OPERATOR;
    if (space > i) [end, kind] = [space, WHITESPACE];
    else if (s.lineComment.some((m) => text.startsWith(m, i))) {
      const nl = text.indexOf('\n', i);
      [end, kind] = [nl < 0 ? text.length : nl, COMMENT];
    } else if (s.blockComment && text.startsWith(s.blockComment[0], i)) {
      const close = text.indexOf(s.blockComment[1], i + s.blockComment[0].length);
      [end, kind] = [close < 0 ? text.length : close + s.blockComment[1].length, COMMENT];
    } else if (s.quotes.includes(text[prefixEnd])) [end, kind] = [stringEnd(text, prefixEnd, s), STRING];
    else if (matchAt(NUMBER_RE, text, i) > i) [end, kind] = [matchAt(NUMBER_RE, text, i), NUMBER];
    else if (matchAt(WORD_RE, text, i) > i) {
      end = matchAt(WORD_RE, text, i);
      kind = s.keywords.has(text.slice(i, end)) ? KEYWORD : IDENT;
    }
    out.fill(kind, i, end);
    i = end;
  }
  return out;
}

/** Characters of context lexed before the tokens: enough to know whether they start in a comment or a string. */
const CONTEXT_CHARS = 4096;

/**
 * The kind of each token: the kind most of its non-whitespace characters have (on a tie, the one
 * that got there first), 'whitespace' when it has none. A token holding only part of a character (empty text) takes
 * the kind of the character it helps to spell. `before`: the text just before the tokens (the
 * document before the cursor), read from a line start at most CONTEXT_CHARS back.
 */
export function tokenKinds(texts: string[], path: string, before = ''): TokenKind[] {
  const cut = before.length - CONTEXT_CHARS;
  const context = cut <= 0 ? before : before.slice(Math.max(cut, before.indexOf('\n', cut) + 1));
  const text = context + texts.join('');
  const chars = lex(text, syntaxOf(path));
  let at = context.length;
  return texts.map((t) => {
    const counts = new Array<number>(TOKEN_KINDS.length).fill(0);
    let best = -1;
    for (let i = at; i < at + t.length; i++) {
      if (chars[i] === WHITESPACE) continue;
      counts[chars[i]]++;
      if (best < 0 || counts[chars[i]] > counts[best]) best = chars[i];
    }
    const kind = t.length === 0 && at < text.length ? chars[at] : best < 0 ? WHITESPACE : best;
    at += t.length;
    return TOKEN_KINDS[kind];
  });
}
