// The request lifecycle of the edge, sequenced in one place (after Pingora's phases):
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
import { discardBody } from '../origin/origin-client.js';
import { isSegmentKey, mediaPlaylistKeyFor, nextSegmentTargets } from '../prefetch.js';
import { controlPathOf, handleControl } from './control-endpoints.js';
import { SIBLING_HEADER, type EdgeRuntime, type FillHead } from './edge-runtime.js';
import { runOriginFill } from './origin-fill.js';
import { createRequestContext, type RequestContext } from './request-context.js';
import { account, sendEntry, sendText, withoutContentLength } from './responses.js';

export type CacheLookup =
  | { readonly kind: 'fresh'; readonly entry: CacheEntry }
  | { readonly kind: 'stale-while-revalidate'; readonly entry: CacheEntry }
  /** Ask the origin; `stale` (if any) is revalidated, and served if the origin fails (stale-if-error). */
  | { readonly kind: 'forward'; readonly stale: CacheEntry | undefined };

export function handleRequest(rt: EdgeRuntime, req: IncomingMessage, res: ServerResponse): void {
  const ctx = createRequestContext(req, res);
  // While draining, every response closes its connection so keep-alive viewers move on.
  if (rt.state.draining) res.shouldKeepAlive = false;
  try {
    if (!filterRequest(rt, ctx)) return;
    if (!resolveCacheKey(rt, ctx)) return;
    const lookup = lookupCache(rt, ctx.key);
    switch (lookup.kind) {
      case 'fresh':
        sendEntry(rt, ctx, lookup.entry, { status: 'hit' });
        break;
      case 'stale-while-revalidate':
        sendEntry(rt, ctx, lookup.entry, { status: 'stale' });
        startFill(rt, ctx.key, lookup.entry);
        break;
      case 'forward':
        readFromFlight(rt, ctx, lookup.stale);
        break;
    }
    prefetchNext(rt, ctx.key);
  } catch (error) {
    internalError(rt, ctx, error);
  }
}

function internalError(rt: EdgeRuntime, ctx: RequestContext, error: unknown): void {
  rt.logger.error({ err: (error as Error).stack ?? String(error), key: ctx.key }, 'internal error');
  ctx.cacheStatus = 'error';
  ctx.detail = 'internal';
  if (!ctx.res.headersSent) sendText(rt, ctx, 500, 'internal error');
  else ctx.res.destroy();
}

/** Phase 1: control endpoints, CORS preflight, methods, malformed headers. False = answered. */
function filterRequest(rt: EdgeRuntime, ctx: RequestContext): boolean {
  const { req } = ctx;
  const controlPath = controlPathOf(req.url ?? '');
  if (controlPath !== undefined) {
    handleControl(rt, ctx, controlPath);
    return false;
  }
  if (req.method === 'OPTIONS') {
    ctx.cacheStatus = 'bypass';
    ctx.res.writeHead(204, [
      ...rt.commonHeaders,
      'access-control-allow-methods', 'GET, HEAD, OPTIONS',
      'access-control-allow-headers', 'Range, If-None-Match, If-Modified-Since, If-Range, X-Streamedge-Region',
      'access-control-max-age', '86400',
      'content-length', '0',
    ]);
    ctx.res.end();
    account(rt, ctx);
    return false;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    reject(rt, ctx, 405, `method ${req.method} not allowed`, 'method', ['allow', 'GET, HEAD, OPTIONS']);
    return false;
  }
  // The edge cannot pass a broken Range on, so it is refused before any origin work.
  const range = req.headers.range;
  if (range !== undefined && !isWellFormedRange(range)) {
    reject(rt, ctx, 416, 'malformed Range header', 'range');
    return false;
  }
  return true;
}

function reject(rt: EdgeRuntime, ctx: RequestContext, status: number, message: string, reason: string, headers: readonly string[] = []): void {
  rt.metrics.badRequests.labels(reason).inc();
  ctx.cacheStatus = 'bypass';
  sendText(rt, ctx, status, message, headers);
}

/** Phase 2: the explicit cache key (normalized path + allow-listed query parameters). */
function resolveCacheKey(rt: EdgeRuntime, ctx: RequestContext): boolean {
  const result = rt.cacheKey(ctx.req.url ?? '');
  if (!result.ok) {
    reject(rt, ctx, result.status, `bad request target: ${result.reason}`, 'target');
    return false;
  }
  ctx.key = result.key;
  return true;
}

/** Phase 3: what the cache holds for the key, classified by RFC 9111 / RFC 5861 freshness. */
export function lookupCache(rt: EdgeRuntime, key: string): CacheLookup {
  const entry = rt.store.get(key);
  if (entry === undefined) return { kind: 'forward', stale: undefined };
  const now = Date.now();
  if (isFresh(entry, now)) return { kind: 'fresh', entry };
  if (withinStaleWhileRevalidate(entry, now)) return { kind: 'stale-while-revalidate', entry };
  if (entry.etag !== undefined || withinStaleIfError(entry, now)) return { kind: 'forward', stale: entry };
  rt.store.delete(key);
  return { kind: 'forward', stale: undefined };
}

/** Starts a coalesced origin fill for a key unless one is already under way (background work). */
function startFill(rt: EdgeRuntime, key: string, stale: CacheEntry | undefined): boolean {
  if (rt.flights.has(key)) return false;
  const { flight } = rt.flights.acquire(key);
  fill(rt, flight, stale, true);
  return true;
}

/** Runs a fill in the background; a bug in it must end the flight, not the process. */
function fill(rt: EdgeRuntime, flight: Flight<FillHead>, stale: CacheEntry | undefined, viaSibling: boolean): void {
  runOriginFill(rt, flight, stale, viaSibling).catch((error: unknown) => {
    rt.logger.error({ key: flight.key, err: (error as Error).stack ?? String(error) }, 'origin fill failed');
    flight.finish('transient-error', new EdgeError('internal error while fetching', { source: 'internal', retryable: true, status: 500, reason: 'internal', cause: error }));
  });
}

/** Phase 4 (miss / revalidation): join or start the key's flight and stream it to this viewer. */
function readFromFlight(rt: EdgeRuntime, ctx: RequestContext, stale: CacheEntry | undefined): void {
  const { flight, writer } = rt.flights.acquire(ctx.key);
  if (writer) {
    fill(rt, flight, stale, ctx.req.headers[SIBLING_HEADER] === undefined);
  } else {
    ctx.collapsed = true;
    rt.metrics.coalescedWaiters.inc();
  }
  attachReader(rt, ctx, flight, stale);
}

function attachReader(rt: EdgeRuntime, ctx: RequestContext, flight: Flight<FillHead>, stale: CacheEntry | undefined): void {
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
        sendEntry(rt, ctx, head.entry, { status: 'revalidated', fwdStatus: 304 });
        return;
      }
      ctx.replica = head.replica;
      ctx.upstreamStatus = head.status;
      ctx.cacheStatus = head.notStored === 'too-large' ? 'bypass' : head.replacedStale ? 'expired' : 'miss';
      ctx.detail = head.notStored;
      const cacheStatus = formatCacheStatus(rt.cacheName, {
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
        account(rt, ctx);
        return;
      }
      if (wantsRange && head.status === 200 && head.notStored !== undefined) {
        // Nothing will be cached to cut the range from: ask the origin for just the range.
        stop();
        passThrough(rt, ctx);
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
        account(rt, ctx);
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
          const entry = outcome === 'done' ? rt.store.peek(ctx.key) : undefined;
          if (entry) sendEntry(rt, ctx, entry, { status: ctx.cacheStatus, fwdStatus: 200, stored: true });
          else passThrough(rt, ctx);
          return;
        }
        res.end();
        account(rt, ctx);
        return;
      }
      if (outcome === 'wait-timeout') {
        ctx.detail = 'wait-timeout';
        passThrough(rt, ctx);
        return;
      }
      const failure = error instanceof EdgeError ? error : upstreamError(error);
      if (streaming || res.headersSent) {
        // The viewer already has part of a body that turned out bad: abort, never a short 200.
        ctx.cacheStatus = 'error';
        ctx.detail = failure.reason;
        account(rt, ctx);
        res.destroy(failure);
        return;
      }
      serveStaleOrError(rt, ctx, stale ?? rt.store.peek(ctx.key), failure);
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
        account(rt, ctx);
      }
    }
  });
}

/** stale-if-error (RFC 5861 §4) when the stale entry allows it, else a clean error status. */
function serveStaleOrError(rt: EdgeRuntime, ctx: RequestContext, stale: CacheEntry | undefined, failure: EdgeError): void {
  if (stale && withinStaleIfError(stale, Date.now())) {
    sendEntry(rt, ctx, stale, { status: 'stale-if-error', fwdStatus: failure.status, detail: `stale-if-error-${failure.reason}` });
    return;
  }
  ctx.cacheStatus = 'error';
  ctx.detail = failure.reason;
  sendText(rt, ctx, failure.status, `origin unavailable (${failure.reason})`);
}

/**
 * An uncoalesced, uncached fetch for this viewer alone: after a wait timeout, or for a range of an
 * object that could not be cached. The viewer's Range is forwarded as is.
 */
function passThrough(rt: EdgeRuntime, ctx: RequestContext): void {
  const { req, res } = ctx;
  ctx.cacheStatus = 'bypass';
  rt.origins.fetch(ctx.key, req.headers.range ? { range: req.headers.range } : {}).then(
    (response) => {
      if (res.destroyed) {
        discardBody(response.body);
        return;
      }
      ctx.replica = response.replica;
      ctx.upstreamStatus = response.status;
      const headers = passThroughHeaderBlock(response.headers);
      headers.push(...rt.commonHeaders, 'age', '0', 'cache-status', formatCacheStatus(rt.cacheName, { status: 'bypass', fwdStatus: response.status, ...(ctx.detail ? { detail: ctx.detail } : {}) }));
      res.writeHead(response.status, headers);
      if (ctx.head) {
        discardBody(response.body);
        res.end();
        account(rt, ctx);
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
        account(rt, ctx);
      });
      response.body.on('error', (error: Error) => {
        ctx.cacheStatus = 'error';
        ctx.detail = 'reset';
        account(rt, ctx);
        res.destroy(error);
      });
      res.once('close', () => discardBody(response.body));
    },
    (error: unknown) => {
      if (!res.destroyed) serveStaleOrError(rt, ctx, undefined, upstreamError(error));
    },
  );
}

/** Phase 5: after a segment request, warm the next segments of its rendition (background fills). */
export function prefetchNext(rt: EdgeRuntime, key: string): void {
  if (rt.prefetchCount <= 0 || !isSegmentKey(key)) return;
  const playlist = rt.store.peek(mediaPlaylistKeyFor(key));
  if (playlist === undefined) return;
  for (const target of nextTargets(playlist, key, rt.prefetchCount)) {
    const normalized = rt.cacheKey(target);
    if (!normalized.ok || rt.store.has(normalized.key)) continue;
    if (startFill(rt, normalized.key, undefined)) rt.metrics.prefetches.labels('started').inc();
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
