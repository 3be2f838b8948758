import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { median, percentile } from './wrk-load.js';

describe('shared bench percentiles', () => {
  it('takes the nearest rank: the smallest value with at least p % of the list at or below it', () => {
    const sorted = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    assert.equal(percentile(sorted, 50), 50);
    assert.equal(percentile(sorted, 51), 60);
    assert.equal(percentile(sorted, 99), 100);
    assert.equal(percentile(sorted, 100), 100);
    // Nearest rank never interpolates: p99 of three values is the largest, p50 the middle one.
    assert.equal(percentile([32, 466, 500], 50), 466);
    assert.equal(percentile([32, 466, 500], 99), 500);
    assert.equal(percentile([7], 1), 7);
  });

  it('answers NaN for an empty list, so a round that delivered nothing is shown as such', () => {
    assert.ok(Number.isNaN(percentile([], 99)));
  });

  it('takes the median of an unsorted list, the mean of the middle two for an even count', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
  });
});
