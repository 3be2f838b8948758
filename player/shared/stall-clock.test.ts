import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StallClock } from './stall-clock.js';

function clockAt(start = 0): { clock: StallClock; advance(ms: number): void } {
  let now = start;
  return { clock: new StallClock(() => now), advance: (ms) => (now += ms) };
}

describe('StallClock', () => {
  it('counts startup separately from stalls', () => {
    const { clock, advance } = clockAt(1000);
    clock.loadStarted();
    clock.waiting(false);
    advance(700);
    clock.progressing();
    assert.deepEqual(clock.snapshot(), { startupMs: 700, count: 0, totalMs: 0, longestMs: 0, stalled: false });
  });

  it('accumulates stalls after playback began, including one in progress', () => {
    const { clock, advance } = clockAt();
    clock.loadStarted();
    clock.progressing();
    clock.waiting(false);
    advance(300);
    clock.waiting(false); // a repeated waiting event is the same stall
    advance(200);
    clock.progressing();
    advance(1000);
    clock.waiting(false);
    advance(1200);
    assert.deepEqual(clock.snapshot(), { startupMs: 0, count: 2, totalMs: 1700, longestMs: 1200, stalled: true });
    clock.progressing();
    advance(5000);
    assert.deepEqual(clock.snapshot(), { startupMs: 0, count: 2, totalMs: 1700, longestMs: 1200, stalled: false });
  });

  it('does not count waiting caused by seeking', () => {
    const { clock, advance } = clockAt();
    clock.loadStarted();
    clock.progressing();
    clock.waiting(true);
    advance(900);
    clock.seeked();
    assert.equal(clock.snapshot().count, 0);
    assert.equal(clock.snapshot().totalMs, 0);
  });

  it('starts over for a new source', () => {
    const { clock, advance } = clockAt();
    clock.loadStarted();
    clock.progressing();
    clock.waiting(false);
    advance(400);
    clock.loadStarted();
    assert.deepEqual(clock.snapshot(), { startupMs: null, count: 0, totalMs: 0, longestMs: 0, stalled: false });
  });

  it('rejects a missing time source', () => {
    assert.throws(() => new StallClock(undefined as unknown as () => number), /now must be a function/);
  });
});
