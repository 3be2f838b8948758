import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createNewKeyRate } from './new-key-rate.js';

describe('new-key rate', () => {
  it('allows a burst, then the rate per second', () => {
    let now = 0;
    const rate = createNewKeyRate({ perSecond: 10, burst: 20, now: () => now });
    let taken = 0;
    while (rate.tryTake()) taken++;
    assert.equal(taken, 20);
    now += 500;
    taken = 0;
    while (rate.tryTake()) taken++;
    assert.equal(taken, 5, 'half a second refills five');
    now += 60_000;
    taken = 0;
    while (rate.tryTake()) taken++;
    assert.equal(taken, 20, 'never more than the burst');
  });

  it('0 is no limit; bad options are refused', () => {
    const rate = createNewKeyRate({ perSecond: 0, burst: 0 });
    for (let i = 0; i < 10_000; i++) assert.equal(rate.tryTake(), true);
    assert.throws(() => createNewKeyRate({ perSecond: -1, burst: 1 }), /perSecond/);
    assert.throws(() => createNewKeyRate({ perSecond: 1, burst: 0 }), /burst/);
  });
});
