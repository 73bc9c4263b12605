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

// Announcements of build output that the first markers miss ("This file is automatically rebuilt by
// the build process"). Like looksCompiled, build.ts applies it to every file but the frozen validation files.
const BUILD_OUTPUT_MARKERS = [/\bautomatically (re)?(generated|built|rebuilt|created)\b/i, /\bthis file (is|was) (auto)?generated\b/i];

/** A file whose head says a build step wrote it. */
export function looksBuildOutput(text: string): boolean {
  const head = text.slice(0, 1500);
  return BUILD_OUTPUT_MARKERS.some((r) => r.test(head));
}

// Compiler and bundler output that carries no source map comment: module-system scaffolding and
// inlined helpers that tsc, Babel, esbuild, webpack and SystemJS emit and people do not write.
const COMPILED_MARKERS = [
  /\b__webpack_require__\b/,
  /\bparcelRequire\b/,
  /\bSystem\.register\(/,
  /Object\.defineProperty\(\s*exports,\s*["']__esModule["'],\s*\{\s*value:\s*(true|!0)\s*\}\s*\)/,
  /typeof exports === ['"]object['"] && typeof module !== ['"]undefined['"] \? (factory\(exports|module\.exports = factory\()/,
  /\b(var|const|let) __(awaiter|generator|extends|assign|createBinding|setModuleDefault|importStar|importDefault|decorate|metadata|param|spreadArray|rest|values|read|classPrivateFieldGet|classPrivateFieldSet|esDecorate|runInitializers|exportStar) = /,
  /\bvar __defProp = Object\.defineProperty\b/,
  /\b__toESM\(|\b__commonJS\(/,
  /\bfunction _(classCallCheck|interopRequireDefault|interopRequireWildcard|createClass|inherits|possibleConstructorReturn|asyncToGenerator|objectSpread2|toConsumableArray|slicedToArray)\(/,
];
// esbuild and rollup bundles name each inlined module in a comment line such as `// src/index.ts`.
const BUNDLED_MODULE_COMMENT = /^\/\/ (?:\.\.\/)*(?:src|lib|source|packages|node_modules)\/\S+\.[cm]?[jt]sx?$/gm;

/** JavaScript that a compiler or bundler wrote (CommonJS scaffolding, inlined helpers, bundled modules). */
export function looksCompiled(text: string): boolean {
  if (COMPILED_MARKERS.some((r) => r.test(text))) return true;
  return (text.match(BUNDLED_MODULE_COMMENT)?.length ?? 0) >= 2;
}

const SOURCE_EXT = /\.(d\.[cm]?ts|[cm]?tsx?|[cm]?jsx?)$/i;
// Folder names that only say where a build put a file (or where its source lives), not what it is.
const BUILD_DIRS = new Set([
  'src', 'source', 'sources', 'src.ts', 'lib', 'dist', 'build', 'out', 'output', 'esm', 'cjs', 'es', 'es5', 'es6', 'es2015',
  'es2017', 'es2018', 'es2019', 'es2020', 'es2022', 'esnext', 'mjs', 'module', 'modules', 'commonjs', 'umd', 'types', 'typings',
  'dts', 'declarations', '_esm', '_cjs', '_types', 'dist-es', 'dist-esm', 'dist-cjs', 'dist-types', 'dist-src', 'dist-node',
  'dist-web', 'lib.esm', 'lib.commonjs', 'node', 'browser', 'development', 'production',
]);

/** `dist/esm/a/b.js`, `lib/a/b.d.ts` and `src/a/b.ts` share the key `a/b`. */
export function sourceKey(relPath: string): string {
  const parts = relPath.replace(/\\/g, '/').replace(SOURCE_EXT, '').split('/');
  return parts.filter((p, i) => i === parts.length - 1 || !BUILD_DIRS.has(p.toLowerCase())).join('/');
}

export function isDeclarationFile(path: string): boolean {
  return /\.d\.[cm]?ts$/i.test(path);
}

// Top-level folders that hold what a build made from a package's sources.
const OUTPUT_ROOTS = /^(dist|build|lib|out|es|es5|es6|esm|cjs|umd|bundles?|_esm|_cjs|_types|types|dist-[a-z]+)\//i;

/**
 * Files of one package that were compiled or bundled from sources shipped in the same package:
 * JavaScript and declaration files whose `sourceKey` matches that of a `.ts`/`.tsx` source, and,
 * when the package has a top-level `src/` (or `source/`) folder, every JavaScript or declaration
 * file under a top-level output folder (`dist/`, `build/`, `lib/`, `esm/`, ...).
 * The sources are what people write; the compiled copies only repeat them.
 */
export function compiledFromSources(relPaths: readonly string[]): Set<string> {
  const paths = relPaths.map((p) => p.replace(/\\/g, '/'));
  const isCode = (p: string) => /\.[cm]?[jt]sx?$/i.test(p);
  const keys = new Set<string>();
  for (const p of paths) if (/\.[cm]?tsx?$/i.test(p) && !isDeclarationFile(p)) keys.add(sourceKey(p));
  const hasSrcDir = paths.some((p) => /^(src|source)\//i.test(p) && isCode(p));
  const out = new Set<string>();
  paths.forEach((p, i) => {
    const compiledKind = isDeclarationFile(p) || /\.[cm]?jsx?$/i.test(p);
    if (!compiledKind) return;
    if (keys.has(sourceKey(p)) || (hasSrcDir && OUTPUT_ROOTS.test(p))) out.add(relPaths[i]);
  });
  return out;
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
