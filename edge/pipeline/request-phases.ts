// The request phases of the edge, sequenced in one place (after Pingora's phases):
//
//   filterRequest → resolveCacheKey → lookupCache ─┬─ fresh ───────────────→ sendEntry (hit)
//                                                  ├─ stale-while-revalidate → sendEntry (stale) + one background fill
//                                                  └─ forward ───────────────→ readFromFlight (coalesced origin fill)
//   → prefetchNext → account (metrics, log) once the response is done
//
// Plain fresh hits on kept-alive connections usually skip node:http: hit-fast-path.ts answers them
// from the socket with the same headers, and hands every other request here.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isWellFormedRange } from '../../infra/http/byte-range.js';
import type { CacheEntry } from '../cache/cache-entry.js';
import { formatCacheStatus } from '../cache/cache-status.js';
import { passThroughHeaderBlock } from '../cache/replayed-headers.js';
import { ifNoneMatchMatches } from '../../infra/http/entity-tag.js';
import { isFresh, withinStaleIfError, withinStaleWhileRevalidate } from '../cache/freshness.js';
import type { Flight, FlightListener, FlightOutcome } from '../coalesce/flight-table.js';
import { EdgeError, upstreamError } from '../errors.js';
import { discardBody } from '../upstream/upstream-client.js';
import { isSegmentKey, mediaPlaylistKeyFor, nextSegmentTargets } from '../prefetch.js';
import { controlPathOf, handleControl } from './control-endpoints.js';
import { SIBLING_HEADER, type EdgeServices, type FillHead } from './edge-services.js';
import { runOriginFill } from './origin-fill.js';
import { createRequestContext, type RequestContext } from './request-context.js';
import { account, sendEntry, sendText, withoutContentLength } from './responses.js';

export type CacheLookup =
  | { readonly kind: 'fresh'; readonly entry: CacheEntry }
  | { readonly kind: 'stale-while-revalidate'; readonly entry: CacheEntry }
  /** Ask the origin; `stale` (if any) is revalidated, and served if the origin fails (stale-if-error). */
  | { readonly kind: 'forward'; readonly stale: CacheEntry | undefined };

export function handleRequest(services: EdgeServices, req: IncomingMessage, res: ServerResponse): void {
  const ctx = createRequestContext(req, res);
  // While draining, every response closes its connection so keep-alive viewers move on.
  if (services.state.draining) res.shouldKeepAlive = false;
  try {
    if (!filterRequest(services, ctx)) return;
    if (!resolveCacheKey(services, ctx)) return;
    const lookup = lookupCache(services, ctx.key);
    switch (lookup.kind) {
      case 'fresh':
        sendEntry(services, ctx, lookup.entry, { status: 'hit' });
        break;
      case 'stale-while-revalidate':
        sendEntry(services, ctx, lookup.entry, { status: 'stale' });
        startFill(services, ctx.key, lookup.entry);
        break;
      case 'forward':
        readFromFlight(services, ctx, lookup.stale);
        break;
    }
    prefetchNext(services, ctx.key);
  } catch (error) {
    internalError(services, ctx, error);
  }
}

function internalError(services: EdgeServices, ctx: RequestContext, error: unknown): void {
  services.logger.error({ err: (error as Error).stack ?? String(error), key: ctx.key }, 'internal error');
  ctx.cacheStatus = 'error';
  ctx.detail = 'internal';
  if (!ctx.res.headersSent) sendText(services, ctx, 500, 'internal error');
  else ctx.res.destroy();
}

/** Phase 1: control endpoints, CORS preflight, methods, malformed headers. False = answered. */
function filterRequest(services: EdgeServices, ctx: RequestContext): boolean {
  const { req } = ctx;
  const controlPath = controlPathOf(req.url ?? '');
  if (controlPath !== undefined) {
    handleControl(services, ctx, controlPath);
    return false;
  }
  if (req.method === 'OPTIONS') {
    ctx.cacheStatus = 'bypass';
    ctx.res.writeHead(204, [
      ...services.commonHeaders,
      'access-control-allow-methods', 'GET, HEAD, OPTIONS',
      'access-control-allow-headers', 'Range, If-None-Match, If-Modified-Since, If-Range, X-Streamedge-Region',
      'access-control-max-age', '86400',
      'content-length', '0',
    ]);
    ctx.res.end();
    account(services, ctx);
    return false;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    reject(services, ctx, 405, `method ${req.method} not allowed`, 'method', ['allow', 'GET, HEAD, OPTIONS']);
    return false;
  }
  // The edge cannot pass a broken Range on, so it is refused before any origin work.
  const range = req.headers.range;
  if (range !== undefined && !isWellFormedRange(range)) {
    reject(services, ctx, 416, 'malformed Range header', 'range');
    return false;
  }
  return true;
}

function reject(services: EdgeServices, ctx: RequestContext, status: number, message: string, reason: string, headers: readonly string[] = []): void {
  services.metrics.badRequests.labels(reason).inc();
  ctx.cacheStatus = 'bypass';
  sendText(services, ctx, status, message, headers);
}

/** Phase 2: the explicit cache key (normalized path + allow-listed query parameters). */
function resolveCacheKey(services: EdgeServices, ctx: RequestContext): boolean {
  const result = services.cacheKey(ctx.req.url ?? '');
  if (!result.ok) {
    reject(services, ctx, result.status, `bad request target: ${result.reason}`, 'target');
    return false;
  }
  ctx.key = result.key;
  return true;
}

/** Phase 3: what the cache holds for the key, classified by RFC 9111 / RFC 5861 freshness. */
export function lookupCache(services: EdgeServices, key: string): CacheLookup {
  const entry = services.store.get(key);
  if (entry === undefined) return { kind: 'forward', stale: undefined };
  const now = Date.now();
  if (isFresh(entry, now)) return { kind: 'fresh', entry };
  if (withinStaleWhileRevalidate(entry, now)) return { kind: 'stale-while-revalidate', entry };
  if (entry.etag !== undefined || withinStaleIfError(entry, now)) return { kind: 'forward', stale: entry };
  services.store.delete(key);
  return { kind: 'forward', stale: undefined };
}

/** Starts a coalesced origin fill for a key unless one is already under way (background work). */
function startFill(services: EdgeServices, key: string, stale: CacheEntry | undefined): boolean {
  if (services.flights.has(key)) return false;
  const { flight } = services.flights.acquire(key);
  fill(services, flight, stale, true);
  return true;
}

/** Runs a fill in the background; a bug in it must end the flight, not the process. */
function fill(services: EdgeServices, flight: Flight<FillHead>, stale: CacheEntry | undefined, viaSibling: boolean): void {
  runOriginFill(services, flight, stale, viaSibling).catch((error: unknown) => {
    services.logger.error({ key: flight.key, err: (error as Error).stack ?? String(error) }, 'origin fill failed');
    flight.finish('transient-error', new EdgeError('internal error while fetching', { source: 'internal', retryable: true, status: 500, reason: 'internal', cause: error }));
  });
}

/** Phase 4 (miss / revalidation): join or start the key's flight and stream it to this viewer. */
function readFromFlight(services: EdgeServices, ctx: RequestContext, stale: CacheEntry | undefined): void {
  const { flight, writer } = services.flights.acquire(ctx.key);
  if (writer) {
    fill(services, flight, stale, ctx.req.headers[SIBLING_HEADER] === undefined);
  } else {
    ctx.collapsed = true;
    services.metrics.coalescedWaiters.inc();
  }
  attachReader(services, ctx, flight, stale);
}

function attachReader(services: EdgeServices, ctx: RequestContext, flight: Flight<FillHead>, stale: CacheEntry | undefined): void {
  const { req, res } = ctx;
  const wantsRange = req.headers.range !== undefined;
  let stopped = false;
  let streaming = false;
  let awaitingWhole = false;
  let subscribed = false;
  const stop = (): void => {
    stopped = true;
    if (subscribed) subscription.cancel();
  };

  const listener: FlightListener<FillHead> = {
    onHead(head) {
      if (stopped) return;
      if (head.kind === 'revalidated') {
        stop();
        sendEntry(services, ctx, head.entry, { status: 'revalidated', fwdStatus: 304 });
        return;
      }
      ctx.replica = head.replica;
      ctx.upstreamStatus = head.status;
      ctx.cacheStatus = head.notStored === 'too-large' ? 'bypass' : head.replacedStale ? 'expired' : 'miss';
      ctx.detail = head.notStored;
      const cacheStatus = formatCacheStatus(services.cacheName, {
        status: ctx.cacheStatus,
        fwdStatus: head.status,
        ...(head.notStored === undefined ? { stored: true, ttl: head.ttl } : { detail: head.notStored }),
        collapsed: ctx.collapsed,
      });
      const headers = [...head.headerBlock, 'age', '0', 'cache-status', cacheStatus];
      if (head.status === 200 && ifNoneMatchMatches(req.headers['if-none-match'], head.etag)) {
        stop();
        res.writeHead(304, withoutContentLength(headers));
        res.end();
        account(services, ctx);
        return;
      }
      if (wantsRange && head.status === 200 && head.notStored !== undefined) {
        // Nothing will be cached to cut the range from: ask the origin for just the range.
        stop();
        passThrough(services, ctx);
        return;
      }
      if (wantsRange && head.status === 200) {
        // The range is cut from the whole object once it is in; the fill is shared with everyone.
        awaitingWhole = true;
        return;
      }
      res.writeHead(head.status, headers);
      ctx.firstByteAt = performance.now();
      if (ctx.head || head.status === 204 || head.status === 304) {
        stop();
        res.end();
        account(services, ctx);
        return;
      }
      streaming = true;
    },
    onData(chunk) {
      if (!streaming || stopped) return;
      res.write(chunk);
      ctx.bodyBytes += chunk.length;
    },
    congested: () => res.writableNeedDrain,
    onEnd(outcome: FlightOutcome, error?: Error) {
      if (stopped) return;
      stopped = true;
      if (outcome === 'done' || outcome === 'gave-up') {
        if (awaitingWhole) {
          const entry = outcome === 'done' ? services.store.peek(ctx.key) : undefined;
          if (entry) sendEntry(services, ctx, entry, { status: ctx.cacheStatus, fwdStatus: 200, stored: true });
          else passThrough(services, ctx);
          return;
        }
        res.end();
        account(services, ctx);
        return;
      }
      if (outcome === 'wait-timeout') {
        ctx.detail = 'wait-timeout';
        passThrough(services, ctx);
        return;
      }
      const failure = error instanceof EdgeError ? error : upstreamError(error);
      if (streaming || res.headersSent) {
        // The viewer already has part of a body that turned out bad: abort, never a short 200.
        ctx.cacheStatus = 'error';
        ctx.detail = failure.reason;
        account(services, ctx);
        res.destroy(failure);
        return;
      }
      serveStaleOrError(services, ctx, stale ?? services.store.peek(ctx.key), failure);
    },
  };
  // onHead may run inside subscribe() when the flight is already streaming.
  const subscription = flight.subscribe(listener, { waitLimited: ctx.collapsed });
  subscribed = true;
  if (stopped) subscription.cancel();
  res.once('close', () => {
    if (!res.writableFinished) {
      subscription.cancel();
      if (!ctx.finished) {
        ctx.detail ??= 'viewer-closed';
        account(services, ctx);
      }
    }
  });
}

/** stale-if-error (RFC 5861 §4) when the stale entry allows it, else a clean error status. */
function serveStaleOrError(services: EdgeServices, ctx: RequestContext, stale: CacheEntry | undefined, failure: EdgeError): void {
  if (stale && withinStaleIfError(stale, Date.now())) {
    sendEntry(services, ctx, stale, { status: 'stale-if-error', fwdStatus: failure.status, detail: `stale-if-error-${failure.reason}` });
    return;
  }
  ctx.cacheStatus = 'error';
  ctx.detail = failure.reason;
  sendText(services, ctx, failure.status, `origin unavailable (${failure.reason})`);
}

/**
 * An uncoalesced, uncached fetch for this viewer alone: after a wait timeout, or for a range of an
 * object that could not be cached. The viewer's Range is forwarded as is.
 */
function passThrough(services: EdgeServices, ctx: RequestContext): void {
  const { req, res } = ctx;
  ctx.cacheStatus = 'bypass';
  services.origins.fetch(ctx.key, req.headers.range ? { range: req.headers.range } : {}).then(
    (response) => {
      if (res.destroyed) {
        discardBody(response.body);
        return;
      }
      ctx.replica = response.replica;
      ctx.upstreamStatus = response.status;
      const headers = passThroughHeaderBlock(response.headers);
      headers.push(...services.commonHeaders, 'age', '0', 'cache-status', formatCacheStatus(services.cacheName, { status: 'bypass', fwdStatus: response.status, ...(ctx.detail ? { detail: ctx.detail } : {}) }));
      res.writeHead(response.status, headers);
      if (ctx.head) {
        discardBody(response.body);
        res.end();
        account(services, ctx);
        return;
      }
      response.body.on('data', (chunk: Buffer) => {
        ctx.bodyBytes += chunk.length;
        if (!res.write(chunk)) {
          response.body.pause();
          res.once('drain', () => response.body.resume());
        }
      });
      response.body.on('end', () => {
        res.end();
        account(services, ctx);
      });
      response.body.on('error', (error: Error) => {
        ctx.cacheStatus = 'error';
        ctx.detail = 'reset';
        account(services, ctx);
        res.destroy(error);
      });
      res.once('close', () => discardBody(response.body));
    },
    (error: unknown) => {
      if (!res.destroyed) serveStaleOrError(services, ctx, undefined, upstreamError(error));
    },
  );
}

/** Phase 5: after a segment request, warm the next segments of its rendition (background fills). */
export function prefetchNext(services: EdgeServices, key: string): void {
  if (services.prefetchCount <= 0 || !isSegmentKey(key)) return;
  const playlist = services.store.peek(mediaPlaylistKeyFor(key));
  if (playlist === undefined) return;
  for (const target of nextTargets(playlist, key, services.prefetchCount)) {
    const normalized = services.cacheKey(target);
    if (!normalized.ok || services.store.has(normalized.key)) continue;
    if (startFill(services, normalized.key, undefined)) services.metrics.prefetches.labels('started').inc();
  }
}

// Parsed segment lists per cached playlist entry, so a hit does not re-read the playlist text.
const playlistIndex = new WeakMap<CacheEntry, Map<string, string[]>>();

function nextTargets(playlist: CacheEntry, key: string, count: number): string[] {
  let byKey = playlistIndex.get(playlist);
  if (byKey === undefined) {
    byKey = new Map();
    playlistIndex.set(playlist, byKey);
  }
  let targets = byKey.get(key);
  if (targets === undefined) {
    targets = nextSegmentTargets(playlist.body.toString('utf8'), key, count);
    byKey.set(key, targets);
  }
  return targets;
}
