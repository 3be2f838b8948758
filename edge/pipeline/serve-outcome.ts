// How a request was answered, named where it happens. Its cache status — the Cache-Status header,
// the metric label and the log field — follows from that name here and nowhere else.
import type { CacheStatus } from '../cache/cache-status.js';

export type ServeOutcome =
  /** A fresh entry from the cache. */
  | 'fresh'
  /** A stale entry, while one background fill refreshes it (RFC 5861 §3). */
  | 'stale-while-revalidate'
  /** A stale entry, because the origin failed (RFC 5861 §4). */
  | 'stale-if-error'
  /** A stale entry the origin confirmed with a 304. */
  | 'revalidated'
  /** A response from the origin, stored or not as its own directives say. */
  | 'fetched'
  /** A response from the origin that replaces a stale entry. */
  | 'replaced-stale'
  /** A response from the origin streamed through: too large to store. */
  | 'too-large'
  /** Fetched for this viewer alone, never stored (a wait timeout, a range of an uncacheable object). */
  | 'passed-through'
  /** Answered by the edge itself: a control endpoint, a CORS preflight, a refused request. */
  | 'answered-here'
  /** No usable response. */
  | 'failed';

const CACHE_STATUS: Readonly<Record<ServeOutcome, CacheStatus>> = {
  fresh: 'hit',
  'stale-while-revalidate': 'stale',
  'stale-if-error': 'stale-if-error',
  revalidated: 'revalidated',
  fetched: 'miss',
  'replaced-stale': 'expired',
  'too-large': 'bypass',
  'passed-through': 'bypass',
  'answered-here': 'bypass',
  failed: 'error',
};

export function cacheStatusOf(outcome: ServeOutcome): CacheStatus {
  return CACHE_STATUS[outcome];
}
