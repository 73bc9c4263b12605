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
// Each tarball was checked to carry hand-written sources (a src/ folder of .ts, or hand-written ES
// module JavaScript), not only bundles or declarations; licenses are checked again at build time
// from each package.json. Compiled and bundled copies inside the tarballs are dropped by filters.ts.
const NPM_PACKAGES = [
  'rxjs@7.8.2', 'fp-ts@2.16.11', 'io-ts@2.2.22', 'ts-pattern@5.9.2', 'zod@3.25.76', 'effect@3.22.4',
  // TypeScript sources
  'effect@4.1.0', '@effect/platform@0.97.2', '@effect/sql@0.52.1', '@effect/cli@0.77.2', '@effect/ai@0.37.0',
  '@effect/experimental@0.61.1', '@effect/rpc@0.76.2', '@effect/cluster@0.60.2', '@effect/workflow@0.19.1',
  '@effect/printer@0.51.0', '@effect/printer-ansi@0.51.0', '@effect/typeclass@0.41.0', '@effect/platform-browser@0.77.1',
  '@effect/ai-openai@0.41.0', '@effect/schema@0.75.5', '@effect/opentelemetry@4.1.0', '@effect/platform-node@4.1.0',
  '@effect/sql-pg@4.0.5',
  'ox@1.8.3', 'viem@2.57.20', 'abitype@1.3.0', '@wagmi/core@3.6.5', 'ethers@6.17.0',
  '@noble/hashes@2.4.0', '@noble/curves@2.4.0', '@noble/ciphers@2.4.0', '@scure/base@2.4.0',
  'maplibre-gl@6.17.0', '@maplibre/maplibre-gl-style-spec@26.6.0', 'happy-dom@21.0.4', 'fabric@7.4.0',
  '@tanstack/db@0.15.2', 'langium@4.4.0', 'chevrotain@13.2.0', '@xterm/xterm@6.0.0', 'puppeteer-core@25.16.0',
  'mongodb@7.9.0', 'vega-lite@6.5.0', '@grpc/grpc-js@1.14.7', 'apache-arrow@21.2.0', 'planck@1.5.0',
  '@tiptap/core@3.35.0', '@tiptap/react@3.35.0', '@tiptap/extension-table@3.35.0',
  'prosemirror-model@1.25.13', 'prosemirror-view@1.44.0', 'prosemirror-state@1.4.4', 'prosemirror-transform@1.12.7',
  'prosemirror-commands@1.7.2', 'prosemirror-markdown@1.13.9',
  '@deck.gl/core@9.4.0', '@luma.gl/core@9.4.2', '@math.gl/core@4.1.0', '@loaders.gl/core@4.5.4',
  '@reduxjs/toolkit@2.15.0', 'immer@11.2.13', 'mobx@7.1.3', 'mobx-react-lite@5.1.0',
  '@tanstack/query-core@5.108.4', '@tanstack/react-query@5.108.4', '@tanstack/vue-query@5.104.0',
  '@tanstack/router-core@1.171.39', '@tanstack/react-router@1.170.46', '@tanstack/router-generator@1.168.0',
  '@tanstack/history@1.162.5', '@tanstack/form-core@1.33.5', '@tanstack/react-form@1.33.5',
  '@tanstack/virtual-core@3.19.11', '@tanstack/store@0.11.2',
  '@trpc/server@11.25.2', '@trpc/client@11.25.2', '@trpc/react-query@11.19.0',
  'ajv@8.20.0', 'zod@4.6.7', '@hookform/resolvers@7.0.9', 'msw@3.0.5', '@mswjs/interceptors@0.45.12', '@auth/core@0.41.3',
  '@supabase/supabase-js@2.119.1', '@supabase/auth-js@2.119.1', '@supabase/postgrest-js@2.119.1', '@supabase/realtime-js@2.119.1',
  'pdf-lib@1.17.1', 'ix@7.0.0', '@js-temporal/polyfill@0.5.1', 'cheerio@1.2.0', 'telegraf@4.16.3',
  '@microsoft/signalr@10.0.11', 'web-vitals@6.2.3', 'workbox-core@7.4.1', 'workbox-routing@7.4.1',
  'workbox-precaching@7.4.1', 'workbox-build@7.4.1', 'tailwind-merge@3.7.1', 'ts-json-schema-generator@2.10.0',
  'json-schema-to-typescript@16.0.0', 'openapi-typescript@7.13.0', '@pothos/core@4.15.1', '@hocuspocus/server@4.7.0',
  '@preact/signals-core@1.14.5',
  // hand-written modern JavaScript (ES modules or plain CommonJS sources)
  'three@0.187.0', 'phaser@4.2.1', '@cesium/engine@26.3.0', 'svelte@5.57.3', '@sveltejs/kit@3.2.0', 'ol@10.11.0',
  'cytoscape@3.35.0', '@huggingface/transformers@4.3.2', 'discord.js@14.28.1', '@observablehq/plot@0.6.17',
  'simple-statistics@7.12.1', 'kafkajs@2.2.4', 'knex@3.3.0', 'sequelize@6.37.8', 'mysql2@3.24.6', 'mongoose@9.12.1',
  'fastify@5.12.8', 'highlight.js@11.12.0', 'leaflet@1.9.4', 'luxon@3.7.2', 'protobufjs@8.8.1', 'fast-xml-parser@5.12.1',
  '@xmldom/xmldom@0.9.12', 'execa@10.2.1', 'postcss@8.5.33', 'ws@8.23.0', 'aframe@1.8.0', 'exceljs@4.4.0', 'plotly.js@4.1.1',
];

export function listSources(projectRoot: string): Source[] {
  return [
    { kind: 'dir', name: 'python3.11-stdlib', root: PY, license: 'PSF-2.0' },
    { kind: 'python-site', name: 'python3.11-site-packages', root: `${PY}/site-packages` },
    { kind: 'npm-local', name: 'project-node_modules', root: `${projectRoot}/node_modules` },
    ...DEBIAN_PACKAGES.map((pkg) => ({ kind: 'debian' as const, name: `debian:${pkg}`, pkg })),
    ...NPM_PACKAGES.map((spec) => ({ kind: 'npm' as const, name: `npm:${spec}`, spec })),
  ];
}
