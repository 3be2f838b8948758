// The cache lookup phase, shared by the hit fast path and the full request path: what the cache
// holds for a key and this request's varied fields (RFC 9111 §4.1), classified by RFC 9111 /
// RFC 5861 freshness. A pure read — what to do about an entry that is of no more use is the
// caller's decision.
import { validatorsOf, type CacheEntry } from '../cache/cache-entry.js';
import type { CacheStore } from '../cache/cache-store.js';
import { isFresh, withinStaleIfError, withinStaleWhileRevalidate } from '../cache/freshness.js';
import type { PartialEntry } from '../cache/partial-content.js';
import { canRevalidate } from '../cache/validators.js';
import { selectVariant, type RequestFields, type StoredResponse } from '../cache/variants.js';

export type CacheLookup =
  | { readonly kind: 'fresh'; readonly entry: CacheEntry }
  | { readonly kind: 'stale-while-revalidate'; readonly entry: CacheEntry }
  /** Ask the origin with the stale entry: revalidated by its ETag / Last-Modified, served if the origin fails (stale-if-error). */
  | { readonly kind: 'revalidate'; readonly stale: CacheEntry }
  | { readonly kind: 'miss' }
  /** Only an incomplete response (RFC 9111 §3.3): a range inside its parts may be served from it, nothing else. */
  | { readonly kind: 'partial'; readonly partial: PartialEntry }
  /** Stale with nothing left to use it for: no validator, past stale-if-error. */
  | { readonly kind: 'expired'; readonly entry: CacheEntry };

/**
 * `fields` are the request's fields as forwarded to the origin; without them (the hit fast path) a
 * response that varies is never selected, so only responses that do not vary can be a hit.
 */
export function lookupCache(store: CacheStore<StoredResponse>, key: string, now: number, fields?: RequestFields): CacheLookup {
  const stored = store.get(key);
  const entry = stored === undefined ? undefined : selectVariant(stored, fields);
  if (entry === undefined) return stored !== undefined && 'kind' in stored && stored.kind === 'partial' ? { kind: 'partial', partial: stored } : { kind: 'miss' };
  if (isFresh(entry, now)) return { kind: 'fresh', entry };
  if (withinStaleWhileRevalidate(entry, now)) return { kind: 'stale-while-revalidate', entry };
  if (canRevalidate(validatorsOf(entry)) || withinStaleIfError(entry, now)) return { kind: 'revalidate', stale: entry };
  return { kind: 'expired', entry };
}
