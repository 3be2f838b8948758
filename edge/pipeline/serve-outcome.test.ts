import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CACHE_STATUSES } from '../cache/cache-status.js';
import { cacheStatusOf, type ServeOutcome } from './serve-outcome.js';

describe('cacheStatusOf', () => {
  const cases: [ServeOutcome, string][] = [
    ['fresh', 'hit'],
    ['stale-while-revalidate', 'stale'],
    ['stale-if-error', 'stale-if-error'],
    ['revalidated', 'revalidated'],
    ['fetched', 'miss'],
    ['replaced-stale', 'expired'],
    ['too-large', 'bypass'],
    ['passed-through', 'bypass'],
    ['answered-here', 'bypass'],
    ['failed', 'error'],
  ];
  for (const [outcome, status] of cases) it(`${outcome} → ${status}`, () => assert.equal(cacheStatusOf(outcome), status));
  it('every cache status is reachable from some outcome', () => {
    assert.deepEqual(new Set(cases.map(([, status]) => status)), new Set(CACHE_STATUSES));
  });
});
