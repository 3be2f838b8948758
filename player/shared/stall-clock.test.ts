import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StallClock } from './stall-clock.js';

/** A clock whose playhead plays at rate 1 while `playing`, sampled every 250 ms. */
function viewer() {
  let now = 1000;
  let currentTime = 0;
  let paused = false;
  const clock = new StallClock(() => now, { thresholdMs: 500 });
  const run = (ms: number, playing: boolean): void => {
    for (let step = 0; step < ms; step += 250) {
      now += 250;
      if (playing && !paused) currentTime += 0.25;
      clock.sample({ currentTime, paused, ended: false });
    }
  };
  return {
    clock,
    play: (ms: number) => run(ms, true),
    stall: (ms: number) => run(ms, false),
    seek: (to: number) => (currentTime = to),
    pause: (value: boolean) => {
      paused = value;
      if (value) clock.paused();
    },
    advance: (ms: number) => (now += ms),
    start: () => {
      clock.loadStarted();
      now += 400;
      clock.firstFrame(currentTime);
    },
  };
}

describe('StallClock', () => {
  it('counts startup separately from stalls', () => {
    const v = viewer();
    v.clock.loadStarted();
    v.stall(1000); // no first frame yet: loading, not stalling
    v.clock.firstFrame(0);
    v.play(2000);
    assert.deepEqual(v.clock.snapshot(), { startupMs: 1000, count: 0, totalMs: 0, longestMs: 0, stalled: false });
  });

  it('measures a stall from the last progress until playback resumed, including one in progress', () => {
    const v = viewer();
    v.start();
    v.play(1000);
    v.stall(1500);
    assert.deepEqual(v.clock.snapshot(), { startupMs: 400, count: 1, totalMs: 1500, longestMs: 1500, stalled: true });
    v.play(1000);
    assert.deepEqual(v.clock.snapshot(), { startupMs: 400, count: 1, totalMs: 1500, longestMs: 1500, stalled: false });
    v.stall(3000);
    v.play(500);
    assert.deepEqual(v.clock.snapshot(), { startupMs: 400, count: 2, totalMs: 4500, longestMs: 3000, stalled: false });
  });

  it('ignores a standstill shorter than the threshold', () => {
    const v = viewer();
    v.start();
    v.play(1000);
    v.stall(250);
    v.play(1000);
    assert.equal(v.clock.snapshot().count, 0);
  });

  it('starts a stall at the waiting event, before the threshold would', () => {
    const v = viewer();
    v.start();
    v.play(1000);
    v.clock.waiting();
    v.stall(250);
    assert.deepEqual(v.clock.snapshot(), { startupMs: 400, count: 1, totalMs: 250, longestMs: 250, stalled: true });
  });

  it('keeps stalling across a seek that lands where there is no data (the live re-sync case)', () => {
    const v = viewer();
    v.start();
    v.play(1000);
    v.stall(1000);
    v.seek(60); // hls.js jumps forward into the live window; the playhead moved but did not play
    v.stall(1000);
    assert.deepEqual(v.clock.snapshot(), { startupMs: 400, count: 1, totalMs: 2000, longestMs: 2000, stalled: true });
    v.play(250);
    assert.equal(v.clock.snapshot().totalMs, 2000);
  });

  it('does not count paused time, and a pause ends a stall', () => {
    const v = viewer();
    v.start();
    v.play(500);
    v.stall(1000);
    v.pause(true);
    v.stall(5000);
    v.pause(false);
    v.play(500);
    assert.deepEqual(v.clock.snapshot(), { startupMs: 400, count: 1, totalMs: 1000, longestMs: 1000, stalled: false });
  });

  it('starts over for a new source', () => {
    const v = viewer();
    v.start();
    v.play(500);
    v.stall(1000);
    v.clock.loadStarted();
    assert.deepEqual(v.clock.snapshot(), { startupMs: null, count: 0, totalMs: 0, longestMs: 0, stalled: false });
  });

  it('validates its options', () => {
    assert.throws(() => new StallClock(undefined as unknown as () => number), /now must be a function/);
    assert.throws(() => new StallClock(() => 0, { thresholdMs: -1 }), /thresholdMs must be a non-negative number/);
  });
});
