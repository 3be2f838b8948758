// The cache lookup phase, shared by the hit fast path and the full request path: what the cache
// holds for a key, classified by RFC 9111 / RFC 5861 freshness. A pure read — what to do about an
// entry that is of no more use is the caller's decision.
import { validatorsOf, type CacheEntry } from '../cache/cache-entry.js';
import type { CacheStore } from '../cache/cache-store.js';
import { isFresh, withinStaleIfError, withinStaleWhileRevalidate } from '../cache/freshness.js';
import { canRevalidate } from '../cache/validators.js';

export type CacheLookup =
  | { readonly kind: 'fresh'; readonly entry: CacheEntry }
  | { readonly kind: 'stale-while-revalidate'; readonly entry: CacheEntry }
  /** Ask the origin with the stale entry: revalidated by its ETag / Last-Modified, served if the origin fails (stale-if-error). */
  | { readonly kind: 'revalidate'; readonly stale: CacheEntry }
  | { readonly kind: 'miss' }
  /** Stale with nothing left to use it for: no validator, past stale-if-error. */
  | { readonly kind: 'expired'; readonly entry: CacheEntry };

export function lookupCache(store: CacheStore<CacheEntry>, key: string, now: number): CacheLookup {
  const entry = store.get(key);
  if (entry === undefined) return { kind: 'miss' };
  if (isFresh(entry, now)) return { kind: 'fresh', entry };
  if (withinStaleWhileRevalidate(entry, now)) return { kind: 'stale-while-revalidate', entry };
  if (canRevalidate(validatorsOf(entry)) || withinStaleIfError(entry, now)) return { kind: 'revalidate', stale: entry };
  return { kind: 'expired', entry };
}
