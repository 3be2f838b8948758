import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultWarmupMs, GROWTH_INTERVALS, MIN_DRILL_SLOT_MS, planSoak } from './soak-plan.js';

const MINUTE = 60_000;

describe('soak plan', () => {
  it('warms up for a fifth of the run, at least 75 s (past the services\' keep-alive timeout) and at most 2 minutes', () => {
    assert.equal(defaultWarmupMs(10 * MINUTE), 2 * MINUTE);
    assert.equal(defaultWarmupMs(7 * MINUTE), 84_000);
    assert.equal(defaultWarmupMs(3 * MINUTE), 75_000);
    assert.equal(defaultWarmupMs(60 * MINUTE), 2 * MINUTE);
    // A short run keeps half of itself to compare.
    assert.equal(defaultWarmupMs(2 * MINUTE), MINUTE);
    assert.equal(defaultWarmupMs(MINUTE), 30_000);
  });

  it('cuts the time after the warm-up into equal intervals and spaces the drills between the first and the last', () => {
    const plan = planSoak(10 * MINUTE, 2 * MINUTE, ['edge-kill', 'origin-slow', 'edge-drain']);
    assert.equal(plan.intervalMs, (8 * MINUTE) / GROWTH_INTERVALS);
    assert.deepEqual(plan.drills.map((drill) => [drill.scenario, drill.atMs / 1000]), [['edge-kill', 216], ['origin-slow', 312], ['edge-drain', 408]]);
    assert.ok(plan.drills.every((drill) => drill.slotMs === 96_000));
    // The last drill's slot ends where the last interval starts: both compared intervals stay quiet.
    assert.equal(plan.drills.at(-1)!.atMs + plan.drills.at(-1)!.slotMs, plan.durationMs - plan.intervalMs);
    assert.deepEqual(plan.dropped, []);
  });

  it('leaves out the drills that do not fit, in the order given, and says which', () => {
    const plan = planSoak(2 * MINUTE, 30_000, ['edge-kill', 'origin-slow', 'edge-drain']);
    assert.equal(plan.intervalMs, 18_000);
    assert.deepEqual(plan.drills, [{ scenario: 'edge-kill', atMs: 48_000, slotMs: 54_000 }]);
    assert.deepEqual(plan.dropped, ['origin-slow', 'edge-drain']);
    // A minute leaves no room for a drill at all.
    const short = planSoak(MINUTE, 30_000, ['edge-kill']);
    assert.ok((short.durationMs - 2 * short.intervalMs - short.warmupMs) < MIN_DRILL_SLOT_MS);
    assert.deepEqual([short.drills, short.dropped], [[], ['edge-kill']]);
  });

  it('refuses a warm-up as long as the run', () => {
    assert.throws(() => planSoak(MINUTE, MINUTE, []), /warm-up \(60000 ms\) must be shorter than the run/);
    assert.throws(() => planSoak(0, 0, []), /duration must be positive/);
  });
});
