import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GROWTH_LIMIT, judgeGrowth, type TimedValue } from './growth-check.js';

/** One sample a second from `fromS` to `toS` inclusive, valued by `value(second)`. */
function series(fromS: number, toS: number, value: (second: number) => number): TimedValue[] {
  return Array.from({ length: toS - fromS + 1 }, (_, index) => ({ atMs: (fromS + index) * 1000, value: value(fromS + index) }));
}

const WINDOWS = { warmupMs: 30_000, intervalMs: 18_000 };

describe('growth over a soak', () => {
  it('compares the median of the last interval with the median of the first interval after the warm-up', () => {
    // Flat at 100 after a warm-up that climbed from 20: the warm-up is not growth.
    const flat = judgeGrowth(series(0, 120, (s) => (s < 30 ? 20 + s * 2 : 100)), WINDOWS);
    assert.deepEqual(flat, { judged: true, start: 100, end: 100, growth: 0, pass: true });
    // Climbing 100 → 110 from interval 1 to the last: 10 % over the target.
    const leak = judgeGrowth(series(0, 120, (s) => (s < 48 ? 100 : s > 102 ? 110 : 105)), WINDOWS);
    assert.ok(leak.judged);
    assert.ok(Math.abs(leak.growth - 0.1) < 1e-9);
    assert.equal(leak.pass, false);
  });

  it('is not fooled by single samples: a GC spike or dip does not move the median', () => {
    const sawtooth = judgeGrowth(series(0, 120, (s) => (s === 110 ? 300 : s === 40 ? 10 : 100)), WINDOWS);
    assert.deepEqual(sawtooth, { judged: true, start: 100, end: 100, growth: 0, pass: true });
  });

  it('passes below the limit and fails at it; shrinking passes', () => {
    const grown = (end: number) => judgeGrowth(series(0, 120, (s) => (s > 102 ? end : 100)), WINDOWS);
    assert.equal(GROWTH_LIMIT, 0.05);
    assert.equal((grown(104.9) as { pass: boolean }).pass, true);
    assert.equal((grown(105) as { pass: boolean }).pass, false);
    assert.equal((grown(60) as { pass: boolean }).pass, true);
  });

  it('gives a process restarted during the run its own warm-up, from its first sample', () => {
    // Born at 52 s: its first interval is 82–100 s; climbing until 70 s is its warm-up.
    const restarted = judgeGrowth(series(52, 120, (s) => (s < 70 ? s : 80)), WINDOWS);
    assert.deepEqual(restarted, { judged: true, start: 80, end: 80, growth: 0, pass: true });
  });

  it('does not judge a process sampled too briefly after its warm-up, or too sparsely, and says why', () => {
    // Killed at 48 s: its first and last intervals would overlap.
    const killed = judgeGrowth(series(0, 48, () => 100), WINDOWS);
    assert.deepEqual(killed, { judged: false, reason: 'sampled for 18 s after its warm-up: too short for two 18 s intervals' });
    const sparse = judgeGrowth([{ atMs: 0, value: 1 }, { atMs: 35_000, value: 1 }, { atMs: 120_000, value: 1 }], WINDOWS);
    assert.deepEqual(sparse, { judged: false, reason: '1 and 1 samples in the first and last intervals (need 3 each)' });
    assert.deepEqual(judgeGrowth([], WINDOWS), { judged: false, reason: 'no samples' });
  });
});
