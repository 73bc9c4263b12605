import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ComputeMeter } from '../src/engine/accounting';
import type { FlopsTable } from '../src/engine/manifest';

// Round numbers so the hand computation is easy to follow.
const F: FlopsTable = { block_per_token: 1000, attention_per_key: 10, lm_head_per_token: 500, predictor_per_token: 7, router_per_token: 3 };

test('FLOPs and KV savings match a hand computation', () => {
  // 3 blocks, block 1 routed. Token at position 4 (5 keys when every block is on).
  const m = new ComputeMeter(F, new Set([1]), 3);
  // Block 0 ran over 5 keys; block 1 skipped; block 2 ran over 5 keys; logits computed.
  const t = m.add(4, [{ ran: true, keys: 5 }, { ran: false, keys: 0 }, { ran: true, keys: 5 }], true);
  // executed: head 500 + block0 (1000 + 50) + predictor 7 + block2 (1000 + 50) = 2607
  assert.equal(t.flops, 2607);
  // every block on: head 500 + 3 blocks x (1000 + 50) + router 3 = 3653
  assert.equal(t.denseFlops, 3653);
  // Next token (position 5): the routed block runs, its cache had 2 rows (+ itself = 3 keys); no logits.
  const u = m.add(5, [{ ran: true, keys: 6 }, { ran: true, keys: 3 }, { ran: true, keys: 6 }], false);
  // executed: 2 x (1000 + 60) + predictor 7 + (1000 + 30 + 3) = 3160; dense: 3 x 1060 + 3 = 3183
  assert.equal(u.flops, 3160);
  assert.equal(u.denseFlops, 3183);
  const tot = m.totals();
  assert.equal(tot.flops, 2607 + 3160);
  assert.equal(tot.denseFlops, 3653 + 3183);
  assert.ok(Math.abs(tot.saved - (1 - 5767 / 6836)) < 1e-12);
  assert.equal(tot.kvEntriesSaved, 1);
  assert.equal(tot.kvEntries, 5);
  assert.deepEqual(tot.perBlock.map((b) => [b.block, b.routed, b.ran, b.tokens]), [[0, false, 2, 2], [1, true, 1, 2], [2, false, 2, 2]]);
  assert.equal(m.totals(1).flops, 3160);
  assert.throws(() => m.add(6, [{ ran: true, keys: 1 }], false));
});

interface FlopsCases {
  configs: { name: string; routedBlocks: number[]; config: { n_layer: number }; table: FlopsTable; sequence: { T: number; everyBlockOn: number } }[];
  trace: { config: string; tokens: { position: number; lmHead: boolean; blocks: { ran: boolean; keys: number }[] }[]; flops: number[]; denseFlops: number[] };
}
const cases: FlopsCases = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'test', 'fixtures', 'flops-cases.json'), 'utf8'));

test('accounting matches the FLOPs fixture that training/model.py is held to', () => {
  const tiny = cases.configs.find((c) => c.name === cases.trace.config)!;
  const m = new ComputeMeter(tiny.table, new Set(tiny.routedBlocks), tiny.config.n_layer);
  const got = cases.trace.tokens.map((t) => m.add(t.position, t.blocks, t.lmHead));
  assert.deepEqual(got.map((t) => t.flops), cases.trace.flops);
  assert.deepEqual(got.map((t) => t.denseFlops), cases.trace.denseFlops);
  // Token by token with every block on, a whole sequence costs what Python's forward_flops says.
  for (const c of cases.configs) {
    const meter = new ComputeMeter(c.table, new Set(c.routedBlocks), c.config.n_layer);
    let dense = 0;
    for (let p = 0; p < c.sequence.T; p++) {
      dense += meter.tokenFlops(p, Array.from({ length: c.config.n_layer }, () => ({ ran: true, keys: p + 1 })), true).denseFlops;
    }
    assert.equal(dense, c.sequence.everyBlockOn, c.name);
  }
});

test('the shipped manifest carries the fixture table of its shape', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'models', 'mod-complete-small', 'manifest.json'), 'utf8'));
  const shipped = cases.configs.find((c) => c.name === 'shipped')!;
  assert.deepEqual(manifest.architecture.routed_blocks, shipped.routedBlocks);
  assert.deepEqual(manifest.flops, shipped.table);
});
