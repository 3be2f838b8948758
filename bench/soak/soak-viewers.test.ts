import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { arrivalMs, viewerPlacement } from './soak-viewers.js';

describe('soak viewer placement', () => {
  it('takes the titles in turn, switches region after each round of titles, and gives every viewer its own address', () => {
    const media = ['live/channel-1', 'vod/demo-ts'];
    const placements = Array.from({ length: 6 }, (_, index) => viewerPlacement(index, media));
    assert.deepEqual(placements.map((placement) => [placement.media, placement.region]), [
      ['live/channel-1', 'us-east'],
      ['vod/demo-ts', 'us-east'],
      ['live/channel-1', 'eu-west'],
      ['vod/demo-ts', 'eu-west'],
      ['live/channel-1', 'us-east'],
      ['vod/demo-ts', 'us-east'],
    ]);
    assert.equal(new Set(placements.map((placement) => placement.localAddress)).size, 6);
    // The shipped location table places 127.0.1.0/24 in us-east and 127.0.2.0/24 in eu-west.
    assert.ok(placements.every((placement) => placement.localAddress.startsWith(placement.region === 'us-east' ? '127.0.1.' : '127.0.2.')));
  });

  it('refuses what it cannot place', () => {
    assert.throws(() => viewerPlacement(0, []), /no media/);
    assert.throws(() => viewerPlacement(245, ['vod/demo-ts']), /viewer 246 needs more addresses than a \/24 holds/);
  });

  it('spreads the arrivals evenly over the ramp, the first at once', () => {
    assert.deepEqual(Array.from({ length: 4 }, (_, index) => arrivalMs(index, 4, 10_000)), [0, 2500, 5000, 7500]);
    assert.deepEqual(Array.from({ length: 3 }, (_, index) => arrivalMs(index, 3, 0)), [0, 0, 0]);
    assert.equal(arrivalMs(0, 1, 10_000), 0);
    assert.throws(() => arrivalMs(1, 4, -1), /the ramp must be 0 or more/);
  });
});
