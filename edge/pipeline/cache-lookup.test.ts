import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCacheEntry, type CacheEntry } from '../cache/cache-entry.js';
import { createMemoryStore } from '../cache/memory-store.js';
import { lookupCache } from './cache-lookup.js';

describe('lookupCache (RFC 9111 §4.2, RFC 5861), a pure read', () => {
  const responseTime = Date.parse('2026-01-01T00:00:00Z');
  const entry = (cacheControl: string, etag?: string): CacheEntry =>
    createCacheEntry({
      key: '/k',
      headers: { 'cache-control': cacheControl, date: new Date(responseTime).toUTCString(), ...(etag ? { etag } : {}) },
      body: Buffer.from('x'),
      requestTime: responseTime,
      responseTime,
      commonHeaders: [],
    });
  const at = (seconds: number): number => responseTime + seconds * 1000;
  const cases: [string, CacheEntry | undefined, number, string][] = [
    ['nothing stored', undefined, 0, 'miss'],
    ['within max-age', entry('max-age=10'), 5, 'fresh'],
    ['within stale-while-revalidate', entry('max-age=10, stale-while-revalidate=10'), 15, 'stale-while-revalidate'],
    ['stale with an ETag to revalidate', entry('max-age=10', '"a"'), 30, 'revalidate'],
    ['stale within stale-if-error', entry('max-age=10, stale-if-error=60'), 30, 'revalidate'],
    ['stale with nothing left to use it for', entry('max-age=10'), 30, 'expired'],
  ];
  for (const [name, stored, seconds, expected] of cases) {
    it(`${name}: ${expected}`, () => {
      const store = createMemoryStore<CacheEntry>({ maxBytes: 1 << 20, maxEntryBytes: 1 << 20, sizeOf: () => 1 });
      if (stored) store.set('/k', stored);
      assert.equal(lookupCache(store, '/k', at(seconds)).kind, expected);
      assert.equal(store.has('/k'), stored !== undefined, 'the lookup never removes an entry');
    });
  }
});
