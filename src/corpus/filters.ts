// Pure rules that decide which source files enter the training corpus.
// Kept free of I/O so they can be unit-tested with small fixtures.

export type Lang = 'typescript' | 'javascript' | 'python';

const EXT_LANG: Record<string, Lang> = {
  '.ts': 'typescript', '.tsx': 'typescript', '.mts': 'typescript', '.cts': 'typescript',
  '.js': 'javascript', '.jsx': 'javascript', '.mjs': 'javascript', '.cjs': 'javascript',
  '.py': 'python',
};

export function languageOf(path: string): Lang | undefined {
  const m = /(\.[a-z]+)$/.exec(path.toLowerCase());
  return m ? EXT_LANG[m[1]] : undefined;
}

/** Vendored copies and bundles repeat code that lives elsewhere (or is machine output). */
export function isExcludedPath(path: string): boolean {
  const p = '/' + path.toLowerCase();
  if (/\/(node_modules|vendor|vendored|_vendor|third_party|thirdparty|__pycache__|site-packages)\//.test(p)) return true;
  if (/\.(min|bundle|umd|packed)\.[cm]?js$/.test(p) || /-min\.js$/.test(p)) return true;
  return /\/(dist-bundle|bundles?|umd|fesm\d*)\//.test(p);
}

export const MAX_FILE_BYTES = 200_000;
export const MIN_FILE_BYTES = 64;

/** Minified code has very long lines; hand-written code almost never does. */
export function looksMinified(text: string): boolean {
  const lines = text.split('\n');
  let long = 0;
  let total = 0;
  for (const l of lines) {
    total += l.length;
    if (l.length > 500) long++;
  }
  return long > 2 || total / Math.max(1, lines.length) > 120;
}

const GENERATED_MARKERS = [
  /@generated\b/i,
  /\bauto-?generated\b/i,
  /\bgenerated (by|from|with|using)\b/i,
  /\bdo not (edit|modify)\b/i,
  /^\/\/# sourceMappingURL=/m,
];

/** Machine output: code generators, compilers and parsers announce themselves near the top. */
export function looksGenerated(text: string): boolean {
  const head = text.slice(0, 1500);
  if (GENERATED_MARKERS.slice(0, 4).some((r) => r.test(head))) return true;
  // Compiled output (tsc/babel) carries a source map reference at the end.
  return GENERATED_MARKERS[4].test(text.slice(-300));
}

/** Mostly data (tables, base64, number arrays) teaches little about code. */
export function looksLikeData(text: string): boolean {
  let letters = 0;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) letters++;
    else if (c >= 48 && c <= 57) digits++;
  }
  return letters < 0.3 * text.length || digits > letters;
}

const PERMISSIVE = [
  /\bmit\b/i, /\bexpat\b/i, /\bbsd\b/i, /\bapache\b/i, /\bisc\b/i, /\bpsf\b/i,
  /python software foundation/i, /\bpython-2\.0\b/i, /\bunlicense\b/i, /\bzlib\b/i, /\bcc0\b/i, /\b0bsd\b/i,
  /\bhpnd\b/i, /\bpublic[- ]domain\b/i,
];
const COPYLEFT = [/\bgpl/i, /\blgpl/i, /\bagpl/i, /\bmpl\b/i, /mozilla public/i, /\bepl\b/i, /\bcddl\b/i, /\bcc-by-sa\b/i, /\bartistic\b/i, /\bsspl\b/i, /\bproprietary\b/i, /commercial/i];

/** A license string is permissive when it names a permissive license and no copyleft or unknown one. */
export function isPermissive(license: string | undefined): boolean {
  if (!license) return false;
  if (COPYLEFT.some((r) => r.test(license))) return false;
  return PERMISSIVE.some((r) => r.test(license));
}

/** Whitespace-insensitive key so that reformatted copies count as duplicates. */
export function dedupeKey(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export type Split = 'train' | 'val' | 'heldout';

/** Split by file content hash: stable across runs and machines, and a file never lands in two splits. */
export function splitOf(sha256Hex: string): Split {
  const bucket = parseInt(sha256Hex.slice(0, 4), 16) % 100;
  if (bucket === 0) return 'val';
  if (bucket === 1) return 'heldout';
  return 'train';
}

export interface Verdict { keep: boolean; reason?: string }

export function judgeFile(path: string, text: string): Verdict {
  if (!languageOf(path)) return { keep: false, reason: 'language' };
  if (isExcludedPath(path)) return { keep: false, reason: 'vendored' };
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_FILE_BYTES) return { keep: false, reason: 'too-large' };
  if (bytes < MIN_FILE_BYTES) return { keep: false, reason: 'too-small' };
  if (text.includes('\u0000')) return { keep: false, reason: 'binary' };
  if (looksMinified(text)) return { keep: false, reason: 'minified' };
  if (looksGenerated(text)) return { keep: false, reason: 'generated' };
  if (looksLikeData(text)) return { keep: false, reason: 'data' };
  return { keep: true };
}
