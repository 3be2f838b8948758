// Cache states with printable names (after Pingora's CachePhase). The same name is the metric
// label, the log field and the basis of the RFC 9211 Cache-Status header.

export const CACHE_STATUSES = [
  'hit', // fresh from cache
  'stale', // stale served while one background revalidation runs (stale-while-revalidate)
  'stale-if-error', // stale served because the origin failed
  'revalidated', // stale entry confirmed by a 304 from the origin
  'expired', // stale entry replaced by a new 200 from the origin
  'miss', // not in cache; fetched (possibly shared with concurrent requests)
  'bypass', // not cacheable by policy (too large, uncacheable status or directives): streamed through
  'error', // no usable response
] as const;

export type CacheStatus = (typeof CACHE_STATUSES)[number];

export interface CacheStatusDetails {
  readonly status: CacheStatus;
  /** Remaining freshness in seconds (negative when stale), for `ttl=`. */
  readonly ttl?: number;
  /** Status the origin answered the forwarded request with. */
  readonly fwdStatus?: number;
  readonly stored?: boolean;
  /** This request waited on another request's origin fetch (RFC 9211 `collapsed`). */
  readonly collapsed?: boolean;
  /** A short reason, e.g. why it was not stored (`too-large`, `no-store`) or what went wrong. */
  readonly detail?: string;
}

const FORWARD_REASON: Readonly<Partial<Record<CacheStatus, string>>> = {
  miss: 'miss',
  bypass: 'bypass',
  revalidated: 'stale',
  expired: 'stale',
  'stale-if-error': 'stale',
  error: 'miss',
};

/** `streamedge-edge-1; hit; ttl=31535990` — one RFC 9211 list member for this cache. */
export function formatCacheStatus(cacheName: string, details: CacheStatusDetails): string {
  const { status } = details;
  let value = cacheName;
  if (status === 'hit' || status === 'stale' || status === 'stale-if-error') value += '; hit';
  const fwd = FORWARD_REASON[status];
  if (fwd) value += `; fwd=${fwd}`;
  if (details.fwdStatus !== undefined) value += `; fwd-status=${details.fwdStatus}`;
  if (details.ttl !== undefined) value += `; ttl=${Math.floor(details.ttl)}`;
  if (details.stored) value += '; stored';
  if (details.collapsed) value += '; collapsed';
  const detail = details.detail ?? (status === 'stale' ? 'stale-while-revalidate' : status === 'stale-if-error' ? 'stale-if-error' : undefined);
  if (detail) value += `; detail=${detail}`;
  return value;
}

/**
 * The Cache-Status members an upstream response carries, for this cache to append its own to
 * (RFC 9211 §2: the first member is the cache nearest the origin, and a cache keeps the others).
 * Members named like this cache (a sibling worker of the same edge answering) are left out, so each
 * hop appears once. Members are split at commas: streamedge's own never quote a comma.
 */
export function upstreamCacheStatus(value: string | string[] | undefined, cacheName: string): string | undefined {
  if (value === undefined) return undefined;
  const members = (Array.isArray(value) ? value.join(',') : value)
    .split(',')
    .map((member) => member.trim())
    .filter((member) => member !== '' && member.split(';')[0]!.trim() !== cacheName);
  return members.length > 0 ? members.join(', ') : undefined;
}

/** This cache's member appended to those of the caches upstream. */
export function chainCacheStatus(upstream: string | undefined, own: string): string {
  return upstream === undefined ? own : `${upstream}, ${own}`;
}
