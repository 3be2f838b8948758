// RFC 9111 (HTTP caching) and RFC 9213 (CDN-Cache-Control) decisions as small pure functions, one
// per decision, so each can be table-tested and the pipeline reads like the RFC.
import { parseHttpDate } from '../../infra/http/http-date.js';
import { deltaSeconds, isStructuredDictionary, NO_DIRECTIVES, parseCacheControl, type Directives } from './cache-control.js';

export type ResponseHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** Why a response is not stored; printable, reused in logs, metrics and Cache-Status `detail`. */
export type NotStorableReason = 'status' | 'no-store' | 'private' | 'set-cookie' | 'vary' | 'authorization' | 'too-large';

/** What the cache keeps about a stored response's freshness. Durations in seconds. */
export interface FreshnessPolicy {
  readonly lifetime: number;
  readonly staleWhileRevalidate: number;
  readonly staleIfError: number;
  /** must-revalidate / proxy-revalidate / no-cache: never serve it stale without asking the origin. */
  readonly mustRevalidate: boolean;
}

/** When the entry's clock started: local receipt time and the age the response already had. */
export interface EntryTiming {
  /** Epoch ms when the response (or its last revalidation) was received. */
  readonly responseTime: number;
  /** Corrected initial age in seconds (RFC 9111 §4.2.3). */
  readonly initialAge: number;
  readonly policy: FreshnessPolicy;
}

/** Status codes heuristically cacheable by default (RFC 9110 §15.1): stored without explicit freshness. */
export const HEURISTICALLY_CACHEABLE: ReadonlySet<number> = new Set([200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501]);

/** "Not found" answers cached for a short configurable time when the origin gives no freshness. */
const NEGATIVE_STATUSES: ReadonlySet<number> = new Set([404, 410]);

/**
 * Status codes whose semantics the edge implements, for `must-understand` (RFC 9111 §5.2.2.3).
 * 206 is judged apart: a 206 is kept only as partial content of a 200 (partial-content.ts), by
 * the rules a 200 would be.
 */
const UNDERSTOOD_STATUSES: ReadonlySet<number> = new Set([200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 501]);

/** What a stored response's freshness depends on besides its header fields. */
export interface FreshnessContext {
  readonly status: number;
  /** Lifetime in seconds of a 404/410 without explicit freshness (negative caching). */
  readonly negativeTtl: number;
}

const PLAIN_200: FreshnessContext = { status: 200, negativeTtl: 0 };

/**
 * RFC 9213: a CDN uses CDN-Cache-Control when present and ignores Cache-Control and Expires for its
 * own caching. Returns the directives that govern this cache and whether they came from the
 * targeted field.
 */
export function governingDirectives(headers: ResponseHeaders): { directives: Directives; targeted: boolean } {
  const field = headers['cdn-cache-control'];
  // RFC 9213 §2.1: a field that fails to parse as a Dictionary is ignored, as if absent.
  const targeted = field !== undefined && isStructuredDictionary(field) ? parseCacheControl(field) : NO_DIRECTIVES;
  if (targeted.size > 0) return { directives: targeted, targeted: true };
  return { directives: parseCacheControl(headers['cache-control']), targeted: false };
}

/**
 * RFC 9111 §3: explicit freshness or an explicit permission to store (s-maxage, max-age, public,
 * or Expires unless CDN-Cache-Control governs), which lets any final status be stored.
 */
export function hasExplicitCacheability(headers: ResponseHeaders, directives: Directives, targeted: boolean): boolean {
  if (directives.has('s-maxage') || directives.has('max-age') || directives.has('public')) return true;
  return !targeted && headers.expires !== undefined;
}

/** RFC 9111 §3 for a shared cache. Undefined means storable. */
export function notStorableReason(status: number, headers: ResponseHeaders, directives: Directives, targeted = false): NotStorableReason | undefined {
  // Interim and 304 responses are never stored; a 206 is never stored as an object of its own, only
  // kept as partial content of the 200 it is a range of (partial-content.ts, §3.3).
  if (status < 200 || status === 304 || status === 206 || status > 599) return 'status';
  if (directives.has('must-understand') && !UNDERSTOOD_STATUSES.has(status)) return 'status';
  if (!HEURISTICALLY_CACHEABLE.has(status) && !hasExplicitCacheability(headers, directives, targeted)) return 'status';
  if (directives.has('no-store')) return 'no-store';
  // `private` (with or without field names) forbids a shared cache from storing (§5.2.2.7).
  if (directives.has('private')) return 'private';
  // A CDN must never replay one viewer's cookie to another.
  if (headers['set-cookie'] !== undefined) return 'set-cookie';
  if (typeof headers.vary === 'string' && headers.vary.split(',').some((name) => name.trim() === '*')) return 'vary';
  return undefined;
}

/**
 * RFC 9111 §3.5: a response to a request that carried Authorization is stored by a shared cache
 * only when it says it may be shared: must-revalidate, public or s-maxage.
 */
export function sharedDespiteAuthorization(directives: Directives): boolean {
  return directives.has('must-revalidate') || directives.has('public') || directives.has('s-maxage');
}

export function isStorable(status: number, headers: ResponseHeaders, directives: Directives, targeted = false): boolean {
  return notStorableReason(status, headers, directives, targeted) === undefined;
}

/**
 * Freshness lifetime in seconds (§4.2.1): s-maxage, then max-age, then Expires − Date (ignored when
 * CDN-Cache-Control governs), then a heuristic of 10% of the time since Last-Modified (capped at a
 * day). An invalid max-age makes the response stale.
 */
export function freshnessLifetime(headers: ResponseHeaders, directives: Directives, targeted: boolean, now: number): number {
  if (directives.has('s-maxage')) return deltaSeconds(directives.get('s-maxage')) ?? 0;
  if (directives.has('max-age')) return deltaSeconds(directives.get('max-age')) ?? 0;
  if (!targeted && headers.expires !== undefined) {
    const expires = parseHttpDate(headers.expires, now);
    if (expires === undefined) return 0; // invalid Expires means "already expired" (§5.3)
    const date = parseHttpDate(headers.date, now) ?? now;
    return Math.max(0, Math.floor((expires - date) / 1000));
  }
  const lastModified = parseHttpDate(headers['last-modified'], now);
  if (lastModified !== undefined) {
    const date = parseHttpDate(headers.date, now) ?? now;
    return Math.min(86_400, Math.max(0, Math.floor((date - lastModified) / 10_000)));
  }
  return 0;
}

/** Corrected initial age (§4.2.3), in whole seconds. */
export function initialAge(headers: ResponseHeaders, requestTime: number, responseTime: number): number {
  const ageValue = deltaSeconds(typeof headers.age === 'string' ? headers.age.trim() : undefined) ?? 0;
  const date = parseHttpDate(headers.date, responseTime);
  const apparentAge = date === undefined ? 0 : Math.max(0, (responseTime - date) / 1000);
  const responseDelay = Math.max(0, (responseTime - requestTime) / 1000);
  return Math.floor(Math.max(apparentAge, ageValue + responseDelay));
}

/**
 * Freshness lifetime of a stored response of this status: explicit freshness first; a 404/410
 * without any gets the configured negative TTL; heuristics only for heuristically cacheable
 * statuses (RFC 9111 §4.2.2).
 */
function lifetimeFor(headers: ResponseHeaders, directives: Directives, targeted: boolean, now: number, context: FreshnessContext): number {
  if (directives.has('no-cache')) return 0; // store, but check with the origin before every use (§5.2.2.4)
  const explicit = directives.has('s-maxage') || directives.has('max-age') || (!targeted && headers.expires !== undefined);
  if (!explicit && NEGATIVE_STATUSES.has(context.status)) return context.negativeTtl;
  if (!explicit && !HEURISTICALLY_CACHEABLE.has(context.status)) return 0;
  return freshnessLifetime(headers, directives, targeted, now);
}

export function freshnessPolicy(headers: ResponseHeaders, now: number, context: FreshnessContext = PLAIN_200): FreshnessPolicy {
  const { directives, targeted } = governingDirectives(headers);
  const mustRevalidate = directives.has('must-revalidate') || directives.has('proxy-revalidate') || directives.has('no-cache');
  return {
    lifetime: lifetimeFor(headers, directives, targeted, now, context),
    staleWhileRevalidate: mustRevalidate ? 0 : (deltaSeconds(directives.get('stale-while-revalidate')) ?? 0),
    staleIfError: mustRevalidate ? 0 : (deltaSeconds(directives.get('stale-if-error')) ?? 0),
    mustRevalidate,
  };
}

/** Current age in seconds (§4.2.3): initial age plus time resident in this cache. */
export function currentAge(timing: Pick<EntryTiming, 'initialAge' | 'responseTime'>, now: number): number {
  return timing.initialAge + Math.max(0, (now - timing.responseTime) / 1000);
}

export function isFresh(timing: EntryTiming, now: number): boolean {
  return currentAge(timing, now) < timing.policy.lifetime;
}

export function isStale(timing: EntryTiming, now: number): boolean {
  return !isFresh(timing, now);
}

/** Seconds past the end of freshness (0 while fresh). */
export function staleness(timing: EntryTiming, now: number): number {
  return Math.max(0, currentAge(timing, now) - timing.policy.lifetime);
}

/** RFC 5861 §3: a stale response may be served while one background revalidation runs. */
export function withinStaleWhileRevalidate(timing: EntryTiming, now: number): boolean {
  return isStale(timing, now) && staleness(timing, now) < timing.policy.staleWhileRevalidate;
}

/** RFC 5861 §4: a stale response may be served when the origin fails. */
export function withinStaleIfError(timing: EntryTiming, now: number): boolean {
  return isStale(timing, now) && staleness(timing, now) < timing.policy.staleIfError;
}
