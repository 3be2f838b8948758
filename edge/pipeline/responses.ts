// Writing responses: from a cached entry (hit path: one precomputed header block, one write), and
// small plain-text answers for errors and control endpoints. Every response ends in account().
import { decideRange } from '../../infra/http/byte-range.js';
import { isPlaylistPath, withQueryOnChildUris } from '../../infra/hls/child-uri-query.js';
import type { CacheEntry } from '../cache/cache-entry.js';
import { formatCacheStatus } from '../cache/cache-status.js';
import { isNotModified } from '../../infra/http/not-modified.js';
import { storedModificationTime } from '../cache/validators.js';
import { currentAge, type ResponseHeaders } from '../cache/freshness.js';
import { interimFields } from '../cache/replayed-headers.js';
import type { EdgeServices } from './edge-services.js';
import type { RequestContext } from './request-context.js';
import { cacheStatusOf, type ServeOutcome } from './serve-outcome.js';

/** The logging phase: metrics for every response, a debug line per request, a warning for errors. */
export function account(services: EdgeServices, ctx: RequestContext): void {
  if (ctx.finished) return;
  ctx.finished = true;
  const cacheStatus = cacheStatusOf(ctx.outcome);
  services.metrics.response(cacheStatus, ctx.bodyBytes);
  if (cacheStatus === 'stale' || cacheStatus === 'stale-if-error') services.metrics.staleServed.labels(cacheStatus).inc();
  if (services.logger.isLevelEnabled('debug')) {
    services.logger.debug({
      method: ctx.req.method,
      key: ctx.key,
      status: ctx.res.statusCode,
      cacheStatus,
      detail: ctx.detail,
      collapsed: ctx.collapsed,
      replica: ctx.replica,
      bytes: ctx.bodyBytes,
      ms: Math.round((performance.now() - ctx.startedAt) * 100) / 100,
      // Streamed responses: when the head went out (for a miss, how long the origin took).
      ...(ctx.firstByteAt !== undefined ? { headMs: Math.round((ctx.firstByteAt - ctx.startedAt) * 100) / 100 } : {}),
    }, 'request');
  }
}

/**
 * An origin's interim response relayed to this viewer before its final one (RFC 9110 §15.2): a 103
 * Early Hints with a Link Node accepts; never to an HTTP/1.0 viewer, never after the final head.
 * Other 1xx are not relayed (a 102 says nothing the edge's own wait does not).
 */
export function sendInterim(ctx: RequestContext, status: number, headers: ResponseHeaders): void {
  const { req, res } = ctx;
  if (status !== 103 || res.headersSent || res.destroyed || req.httpVersionMajor < 1 || (req.httpVersionMajor === 1 && req.httpVersionMinor < 1)) return;
  const hints = interimFields(headers);
  if (hints.link === undefined) return;
  try {
    res.writeEarlyHints(hints);
  } catch {
    // A Link value Node will not write: the hint is dropped, the final response is unaffected.
  }
}

/** A short plain-text answer (errors, control endpoints), with the edge's common headers. */
export function sendText(services: EdgeServices, ctx: RequestContext, status: number, text: string, extraHeaders: readonly string[] = []): void {
  const body = Buffer.from(`${text}\n`);
  const headers = [
    ...services.commonHeaders,
    'content-type', 'text/plain; charset=utf-8',
    'content-length', String(body.length),
    'cache-control', 'no-store',
    ...extraHeaders,
  ];
  const cacheStatus = cacheStatusOf(ctx.outcome);
  if (ctx.key !== '' || cacheStatus === 'error') {
    headers.push('cache-status', formatCacheStatus(services.cacheName, { status: cacheStatus, ...(ctx.detail ? { detail: ctx.detail } : {}) }));
  }
  ctx.res.writeHead(status, headers);
  ctx.res.end(ctx.head ? undefined : body);
  ctx.bodyBytes = ctx.head ? 0 : body.length;
  account(services, ctx);
}

export function sendJson(services: EdgeServices, ctx: RequestContext, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value));
  ctx.res.writeHead(status, [...services.commonHeaders, 'content-type', 'application/json', 'content-length', String(body.length), 'cache-control', 'no-store']);
  ctx.res.end(body);
  ctx.bodyBytes = body.length;
  account(services, ctx);
}

export interface EntryResponseOptions {
  readonly outcome: ServeOutcome;
  readonly fwdStatus?: number;
  readonly detail?: string;
  readonly stored?: boolean;
}

// Hits within the same second share one header array per entry.
const hitHeaderMemo = new WeakMap<CacheEntry, { age: number; headers: string[] }>();

function headersFor(services: EdgeServices, entry: CacheEntry, options: EntryResponseOptions, collapsed: boolean, now: number): string[] {
  const ageSeconds = currentAge(entry, now);
  const age = Math.floor(ageSeconds);
  const plainHit = options.outcome === 'fresh' && !collapsed;
  if (plainHit) {
    const memo = hitHeaderMemo.get(entry);
    if (memo && memo.age === age) return memo.headers;
  }
  const cacheStatus = formatCacheStatus(services.cacheName, {
    status: cacheStatusOf(options.outcome),
    ttl: entry.policy.lifetime - ageSeconds,
    collapsed,
    ...(options.fwdStatus !== undefined ? { fwdStatus: options.fwdStatus } : {}),
    ...(options.detail !== undefined ? { detail: options.detail } : {}),
    ...(options.stored ? { stored: true } : {}),
  });
  const headers = [...entry.headerBlock, 'age', String(age), 'cache-status', cacheStatus];
  if (plainHit) hitHeaderMemo.set(entry, { age, headers });
  return headers;
}

/**
 * The headers of a plain hit on `entry` at `now` (cached per entry and second), shared with the
 * hit fast path so both paths send the same response.
 */
export function plainHitHeaders(services: EdgeServices, entry: CacheEntry, now: number): readonly string[] {
  return headersFor(services, entry, { outcome: 'fresh' }, false, now);
}

/**
 * Serves a cached entry: 304 when If-None-Match or else If-Modified-Since says the viewer's copy is
 * current (RFC 9110 §13.2.2), 206/416 for a Range, else 200. A stored
 * response of another status (a 404, a 301…) is replayed as it is: conditionals and ranges select
 * among representations, and it has none.
 */
export function sendEntry(services: EdgeServices, ctx: RequestContext, entry: CacheEntry, options: EntryResponseOptions): void {
  const { req, res } = ctx;
  ctx.outcome = options.outcome;
  if (options.detail !== undefined) ctx.detail = options.detail;
  let headers = headersFor(services, entry, options, ctx.collapsed, Date.now());
  if (entry.status !== 200) {
    res.writeHead(entry.status, headers);
    const bodyless = ctx.head || entry.status === 204;
    res.end(bodyless ? undefined : entry.body);
    ctx.bodyBytes = bodyless ? 0 : entry.body.length;
    account(services, ctx);
    return;
  }
  const body = bodyForViewer(ctx, entry.body);
  if (body !== entry.body) headers = [...withoutContentLength(headers), 'content-length', String(body.length)];
  if (isNotModified(req.headers, entry.etag, storedModificationTime(entry.storedHeaders['last-modified'], entry.date))) {
    res.writeHead(304, withoutContentLength(headers));
    res.end();
    account(services, ctx);
    return;
  }
  const rangeHeader = req.headers.range;
  // If-Range: the range applies only if the viewer's copy is still this entry (strong match).
  const rangeApplies = rangeHeader !== undefined && (req.headers['if-range'] === undefined || req.headers['if-range'] === entry.etag);
  if (rangeApplies) {
    const decision = decideRange(rangeHeader, body.length);
    // A malformed Range was already refused by the filter phase; refused the same way here.
    if (decision.kind === 'unsatisfiable' || decision.kind === 'malformed') {
      ctx.detail = decision.kind === 'malformed' ? 'malformed Range' : decision.reason;
      res.writeHead(416, [...withoutContentLength(headers), 'content-range', `bytes */${body.length}`, 'content-length', '0']);
      res.end();
      account(services, ctx);
      return;
    }
    if (decision.kind === 'partial') {
      const { start, end } = decision.range;
      const length = end - start + 1;
      res.writeHead(206, [...withoutContentLength(headers), 'content-range', `bytes ${start}-${end}/${body.length}`, 'content-length', String(length)]);
      if (ctx.head) res.end();
      else res.end(body.subarray(start, end + 1));
      ctx.bodyBytes = ctx.head ? 0 : length;
      account(services, ctx);
      return;
    }
  }
  res.writeHead(200, headers);
  if (ctx.head) res.end();
  else res.end(body);
  ctx.bodyBytes = ctx.head ? 0 : body.length;
  account(services, ctx);
}

/** Whether this request's body is a playlist to carry a signed URL's token into. */
export function rewritesPlaylist(ctx: RequestContext): boolean {
  return ctx.tokenQuery !== '' && isPlaylistPath(ctx.key);
}

/**
 * The body a viewer gets: a playlist requested with a signed URL carries the token into every URI
 * it holds (relative URIs do not inherit a query string); the cached copy never holds a token.
 */
export function bodyForViewer(ctx: RequestContext, body: Buffer): Buffer {
  if (!rewritesPlaylist(ctx)) return body;
  return Buffer.from(withQueryOnChildUris(body.toString('utf8'), ctx.tokenQuery));
}

export function withoutContentLength(headers: readonly string[]): string[] {
  const result: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== 'content-length') result.push(headers[i]!, headers[i + 1]!);
  }
  return result;
}
