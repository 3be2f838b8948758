import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { LocalStack } from '../../stack/local-stack.js';
import { endLiveViewing } from './live-viewing.js';
import { killServingEdge, LOW_LATENCY_TARGETS, startLowLatencyViewing, watchLowLatency, type LowLatencyViewing } from './low-latency-watch.js';
import type { PlayerPage } from './player-page.js';

// Issue 13's targets on a short watch: `npm run bench:ll-playback` holds the same thresholds over
// two minutes (bench/README.md); a stall or a drift past 2.5 s shows within this window too, as
// every second is sampled and any stall counts.
const { maxLatencyS: MAX_LATENCY_S, maxFailoverStallMs: MAX_FAILOVER_STALL_MS } = LOW_LATENCY_TARGETS;
const WATCH_S = 25;

const viewing: LowLatencyViewing = {};
let stack: LocalStack;
let player: PlayerPage;
const measurements: Record<string, unknown> = {};

before(async () => ({ stack, player } = await startLowLatencyViewing(viewing)), { timeout: 240_000 });

after(() => endLiveViewing(viewing, 'player-low-latency.json', measurements));

test(`plays Low-Latency HLS ≤ ${MAX_LATENCY_S} s behind live with no stall for ${WATCH_S} s`, { timeout: (WATCH_S + 60) * 1000 }, async (t) => {
  const figures = await watchLowLatency(player, WATCH_S);
  measurements.playback = figures;
  t.diagnostic(`LL-HLS over ${WATCH_S} s: ${JSON.stringify(figures)}`);
  assert.equal(figures.lowLatency, true, 'the playlist lists parts');
  assert.deepEqual(figures.fatal, []);
  assert.ok(figures.latencyS.median <= MAX_LATENCY_S, `median latency ${figures.latencyS.median.toFixed(2)} s ≤ ${MAX_LATENCY_S} s`);
  assert.equal(figures.stalls, 0, `${figures.stalls} stall(s) over ${WATCH_S} s`);
  assert.equal(figures.overlay, 'yes (parts)');
  assert.deepEqual(figures.problems, []);
});

test(`SIGKILL of the serving edge stalls Low-Latency HLS playback ≤ ${MAX_FAILOVER_STALL_MS} ms`, { timeout: 60_000 }, async (t) => {
  const figures = await killServingEdge(stack, player);
  measurements.sigkill = figures;
  t.diagnostic(`SIGKILL ${figures.killed} → ${figures.movedTo}: ${JSON.stringify(figures)}`);
  assert.deepEqual(figures.fatal, []);
  assert.ok(figures.stallMs <= MAX_FAILOVER_STALL_MS, `stalled ${Math.round(figures.stallMs)} ms ≤ ${MAX_FAILOVER_STALL_MS} ms`);
});
