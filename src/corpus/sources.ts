// The listed sources of the training corpus. Everything comes from this machine or from
// a short list of named packages (Debian's archive, the npm registry); nothing is bulk-downloaded.

export type Source =
  | { kind: 'dir'; name: string; root: string; license: string }
  | { kind: 'python-site'; name: string; root: string }
  | { kind: 'npm-local'; name: string; root: string }
  | { kind: 'debian'; name: string; pkg: string }
  | { kind: 'npm'; name: string; spec: string };

const PY = '/root/.pyenv/versions/3.11.7/lib/python3.11';

// Debian packages rich in hand-written JavaScript/TypeScript; their licenses are checked from
// each package's copyright file, so a non-permissive one is dropped rather than trusted.
const DEBIAN_PACKAGES = [
  'node-typescript', 'libjs-three', 'node-lodash-packages', 'node-babel7', 'node-rx', 'node-vega',
  'node-sinon', 'node-lumino', 'webpack', 'node-jsdom', 'eslint', 'jest', 'rollup', 'ts-jest',
  'yarnpkg', 'node-mongodb', 'node-prismjs', 'node-ramda', 'node-yjs', 'node-react-dom', 'node-vue',
  'node-less', 'node-axios', 'node-core-js', 'node-inquirer', 'node-moment', 'node-terser',
  'node-undici', 'node-lib0', 'node-zrender', 'node-webassemblyjs', 'node-acorn', 'node-d3',
];

// npm packages that publish their TypeScript sources (TypeScript is the scarcest language here).
const NPM_PACKAGES = ['rxjs@7.8.2', 'fp-ts@2.16.11', 'io-ts@2.2.22', 'ts-pattern@5.9.2', 'zod@3.25.76', 'effect@3.22.4'];

export function listSources(projectRoot: string): Source[] {
  return [
    { kind: 'dir', name: 'python3.11-stdlib', root: PY, license: 'PSF-2.0' },
    { kind: 'python-site', name: 'python3.11-site-packages', root: `${PY}/site-packages` },
    { kind: 'npm-local', name: 'project-node_modules', root: `${projectRoot}/node_modules` },
    ...DEBIAN_PACKAGES.map((pkg) => ({ kind: 'debian' as const, name: `debian:${pkg}`, pkg })),
    ...NPM_PACKAGES.map((spec) => ({ kind: 'npm' as const, name: `npm:${spec}`, spec })),
  ];
}
