// Soak: typing at 50 requests/s into a synced document for SOAK_SECONDS (20 by default; the
// README's figures come from `npm run report:soak`: 60 s, docs/reports/soak.json), each request cancelling the one before it (the
// client's newest-wins and an AbortSignal, as the inline provider does). Nothing may fail but
// by cancellation, memory must level off, and this thread (the editor's) must stay responsive.
import '../src/engine/telemetry'; // first: turns onnxruntime telemetry off before it loads
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { test } from 'node:test';
import { EngineClient } from '../src/engine/client';
import { isCancelled } from '../src/engine/errors';
import { percentile } from '../src/engine/metrics';
import { SHIPPED_MODEL } from './helpers';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 20);
const RATE = 50;
/** Memory is measured from here on: the first requests load the runtime's arenas and caches. */
const WARMUP_SECONDS = Math.min(5, SECONDS / 4);

const SRC = Array.from({ length: 300 }, (_, i) => `def handler_${i}(event, context):\n    payload = event.get("body", ${i})\n    return respond(payload)\n\n`).join('');

test(`soak: ${RATE} requests/s with cancellation for ${SECONDS} s`, async () => {
  const c = new EngineClient(path.join(__dirname, '../src/engine/worker.js'));
  const loop = monitorEventLoopDelay({ resolution: 5 });
  try {
    await c.load({ modelDir: SHIPPED_MODEL, provider: 'cpu' });
    const uri = 'file:///work/soak.py';
    let version = 1;
    await c.open(uri, 'python', version, SRC);
    const cursor = SRC.indexOf('\n', SRC.length / 2) + 1;
    let typed = 0;

    const outcomes = { ok: 0, cancelled: 0, failed: [] as string[] };
    const latencies: number[] = [];
    const settled: Promise<void>[] = [];
    let previous: AbortController | undefined;
    let maxGap = 0;
    let lastTick = performance.now();
    const rss: { t: number; mb: number }[] = [];
    const t0 = performance.now();

    // One tick per request: type (or, every 20 characters, delete the typed line), then ask.
    const tick = () => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - lastTick - 1000 / RATE);
      lastTick = now;
      const edit = typed === 20 ? { offset: cursor, deleteCount: 20, text: '' } : { offset: cursor + typed, deleteCount: 0, text: 'x = 1\n'[typed % 6] };
      typed = typed === 20 ? 0 : typed + 1;
      settled.push(c.edit(uri, version, ++version, [edit]).catch((e: Error) => void outcomes.failed.push(`edit: ${e.message}`)));
      previous?.abort();
      const abort = (previous = new AbortController());
      const sent = performance.now();
      settled.push(c.complete({ path: 'soak.py', mode: 'auto', maxTokens: 16, document: { uri, version, offset: cursor + typed } }, abort.signal).then(
        () => {
          outcomes.ok++;
          latencies.push(performance.now() - sent);
        },
        (e: unknown) => {
          if (isCancelled(e)) outcomes.cancelled++;
          else outcomes.failed.push(String(e));
        },
      ));
    };
    loop.enable();
    const requests = setInterval(tick, 1000 / RATE);
    const memory = setInterval(() => rss.push({ t: (performance.now() - t0) / 1000, mb: process.memoryUsage().rss / 1e6 }), 250);
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    clearInterval(requests);
    clearInterval(memory);
    loop.disable();
    await Promise.all(settled);
    // The newest request is never cancelled: after the burst the worker answers at once.
    const last = await c.complete({ path: 'soak.py', mode: 'auto', maxTokens: 16, document: { uri, version, offset: cursor + typed } });

    const warm = rss.filter((s) => s.t >= WARMUP_SECONDS);
    const baseline = warm[0]?.mb ?? NaN;
    const peak = Math.max(...warm.map((s) => s.mb));
    const figures = {
      seconds: SECONDS,
      requests: outcomes.ok + outcomes.cancelled + outcomes.failed.length,
      completed: outcomes.ok,
      cancelled: outcomes.cancelled,
      failed: outcomes.failed.length,
      p50Ms: +percentile(latencies, 50).toFixed(1),
      p95Ms: +percentile(latencies, 95).toFixed(1),
      rssStartMb: Math.round(rss[0]?.mb ?? NaN),
      rssAfterWarmupMb: Math.round(baseline),
      rssPeakMb: Math.round(peak),
      rssEndMb: Math.round(warm.at(-1)?.mb ?? NaN),
      maxTimerLateMs: +maxGap.toFixed(1),
      eventLoopDelayMaxMs: +(loop.max / 1e6).toFixed(1),
      eventLoopDelayP99Ms: +(loop.percentile(99) / 1e6).toFixed(1),
    };
    console.log(`soak figures: ${JSON.stringify(figures)}`);
    // `npm run report:soak` keeps the 60 s run's figures for the README.
    if (process.env.SOAK_REPORT) fs.writeFileSync(process.env.SOAK_REPORT, JSON.stringify({ rate: RATE, ...figures }, null, 1) + '\n');
    assert.deepEqual(outcomes.failed, []);
    assert.ok(outcomes.ok > 0 && last.text !== undefined, 'no request completed');
    assert.ok(figures.requests >= RATE * SECONDS * 0.8, `only ${figures.requests} requests were sent`);
    assert.ok(peak - baseline < 150, `RSS grew ${(peak - baseline).toFixed(0)} MB after warm-up`);
    assert.ok(figures.eventLoopDelayMaxMs < 50, `the main thread stalled ${figures.eventLoopDelayMaxMs} ms`);
  } finally {
    loop.disable();
    await c.dispose();
  }
});
