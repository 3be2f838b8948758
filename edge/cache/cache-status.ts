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
