import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultWarmupMs, DRILL_SETTLE_MS, GROWTH_INTERVALS, planSoak } from './soak-plan.js';

const MINUTE = 60_000;

describe('soak plan', () => {
  it('warms up for 40 % of the run, at least 75 s (past the services\' keep-alive timeout) and at most 4 minutes (RSS settles 3 to 5 minutes in)', () => {
    assert.equal(defaultWarmupMs(10 * MINUTE), 4 * MINUTE);
    assert.equal(defaultWarmupMs(7 * MINUTE), 168_000);
    assert.equal(defaultWarmupMs(3 * MINUTE), 75_000);
    assert.equal(defaultWarmupMs(60 * MINUTE), 4 * MINUTE);
    // A short run keeps half of itself to compare.
    assert.equal(defaultWarmupMs(2 * MINUTE), MINUTE);
    assert.equal(defaultWarmupMs(MINUTE), 30_000);
  });

  it('cuts the time after the warm-up into equal intervals and spaces the drills between the first and the last, the last a keep-alive timeout before it', () => {
    const plan = planSoak(10 * MINUTE, 4 * MINUTE, ['edge-kill', 'origin-slow', 'edge-drain']);
    assert.equal(plan.intervalMs, (6 * MINUTE) / GROWTH_INTERVALS);
    // From the end of interval 1 (312 s) to 65 s before the last (528 - 65 = 463 s): 151 s, three slots.
    assert.deepEqual(plan.drills.map((drill) => [drill.scenario, drill.atMs / 1000]), [['edge-kill', 312], ['origin-slow', 362.333], ['edge-drain', 412.667]]);
    assert.ok(plan.drills.every((drill) => drill.slotMs === 50_333));
    assert.equal(Math.round(plan.drills.at(-1)!.atMs + (151_000 / 3)), plan.durationMs - plan.intervalMs - DRILL_SETTLE_MS);
    assert.deepEqual(plan.dropped, []);
  });

  it('leaves out the drills that do not fit, in the order given, and says which', () => {
    const plan = planSoak(4 * MINUTE, 90_000, ['edge-kill', 'origin-slow', 'edge-drain']);
    assert.equal(plan.intervalMs, 30_000);
    // From 120 s to 240 - 30 - 65 = 145 s: no room for one. Six minutes with a 2-minute warm-up: one.
    assert.deepEqual([plan.drills, plan.dropped], [[], ['edge-kill', 'origin-slow', 'edge-drain']]);
    const six = planSoak(6 * MINUTE, 2 * MINUTE, ['edge-kill', 'origin-slow']);
    assert.deepEqual(six.drills, [{ scenario: 'edge-kill', atMs: 168_000, slotMs: 79_000 }]);
    assert.deepEqual(six.dropped, ['origin-slow']);
  });

  it('refuses a warm-up as long as the run', () => {
    assert.throws(() => planSoak(MINUTE, MINUTE, []), /warm-up \(60000 ms\) must be shorter than the run/);
    assert.throws(() => planSoak(0, 0, []), /duration must be positive/);
  });
});
