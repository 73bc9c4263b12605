import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlockCache } from '../src/engine/kv-cache';

function rows(H: number, n: number, hd: number, base: number): Float32Array {
  // [H, n, hd] with value = base + row*10 + head*1000 so we can check where rows land.
  const a = new Float32Array(H * n * hd);
  for (let h = 0; h < H; h++) for (let r = 0; r < n; r++) a.fill(base + r * 10 + h * 1000, (h * n + r) * hd, (h * n + r + 1) * hd);
  return a;
}

test('appends land per head at the valid length, the mask opens them, growth keeps them', () => {
  const c = new BlockCache(2, 3, 2);
  c.append(rows(2, 2, 3, 1), rows(2, 2, 3, 1), 2, [0, 1]);
  c.append(rows(2, 3, 3, 100), rows(2, 3, 3, 100), 3, [5, 6, 9]);
  assert.equal(c.len, 5);
  assert.ok(c.cap >= 5);
  const at = (h: number, r: number) => c.k[(h * c.cap + r) * 3];
  assert.deepEqual([at(0, 0), at(0, 1), at(0, 2), at(0, 4), at(1, 0), at(1, 3)], [1, 11, 100, 120, 1001, 1110]);
  assert.deepEqual(Array.from(c.mask.subarray(0, 5)), [0, 0, 0, 0, 0]);
  assert.ok(Array.from(c.mask.subarray(5)).every((m) => m === -Infinity));
  assert.deepEqual(Array.from(c.positions.subarray(0, 5)), [0, 1, 5, 6, 9]);
  assert.equal(c.bytes(), 5 * 2 * 3 * 4 * 2);
});

test('truncate keeps rows before a position, by the rows original positions', () => {
  const c = new BlockCache(1, 1, 8);
  c.append(rows(1, 4, 1, 0), rows(1, 4, 1, 0), 4, [2, 4, 7, 8]);
  c.truncate(7);
  assert.equal(c.len, 2);
  assert.deepEqual(Array.from(c.mask.subarray(0, 4)), [0, 0, -Infinity, -Infinity]);
  c.truncate(0);
  assert.equal(c.len, 0);
  c.append(rows(1, 0, 1, 0), rows(1, 0, 1, 0), 0, []);
  assert.equal(c.len, 0);
});
