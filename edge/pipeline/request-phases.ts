// The request phases of the edge, sequenced in one place (after Pingora's phases). Each phase is
// its own module, and a request moves through them in order without coming back:
//
//   filterRequest (control paths, methods, signed-URL token) → resolveCacheKey (other spellings of control paths refused) → lookupCache (cache-lookup.ts)
//     ├─ fresh ──────────────────→ sendEntry (responses.ts)
//     ├─ stale-while-revalidate ─→ sendEntry + startBackgroundFill (origin-fill.ts)
//     ├─ revalidate / miss ──────→ readThroughFlight (origin-fill.ts: coalesced fill, pass-through)
//     └─ partial ────────────────→ sendPartialHit (partial-hit.ts), else passThrough (a range: kept by
//                                  partial-capture.ts, revalidated if stale) or readThroughFlight
//   (POST, PUT, DELETE, PATCH skip the lookup: forwardUnsafe, origin-fill.ts)
//   → prefetchNext (segment-prefetch.ts) → account (responses.ts) once the response is done
//
// Plain fresh hits on kept-alive connections usually skip node:http: hit-fast-path.ts answers them
// from the socket with the same lookup and headers, and hands every other request here.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isWellFormedRange } from '../../infra/http/byte-range.js';
import { forgetResponse } from '../cache/variants.js';
import { lookupCache } from './cache-lookup.js';
import { controlPathOf, handleControl, isDisguisedControlPath } from './control-endpoints.js';
import type { EdgeServices } from './edge-services.js';
import { forwardUnsafe, passThrough, readThroughFlight, startBackgroundFill } from './origin-fill.js';
import { partialUse, sendPartialHit } from './partial-hit.js';
import { createRequestContext, type RequestContext } from './request-context.js';
import { PEER_HOP_HEADER } from '../upstream/peer-hop.js';
import { account, sendEntry, sendText } from './responses.js';
import { prefetchNext } from './segment-prefetch.js';

const PUBLIC_LISTING_PATH = '/catalog.json';
/** Methods passed through to the origin, never answered from or stored in the cache (RFC 9110 §9.2.1, RFC 9111 §4.4). */
const UNSAFE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);
/** Known methods the edge refuses: it opens no tunnels and echoes no requests. */
const REFUSED_METHODS: ReadonlySet<string> = new Set(['CONNECT', 'TRACE']);
/** The Allow header of a 405 and the methods a CORS preflight advertises. */
export const ALLOWED_METHODS = 'GET, HEAD, OPTIONS, POST, PUT, DELETE, PATCH';

export function handleRequest(services: EdgeServices, req: IncomingMessage, res: ServerResponse): void {
  const ctx = createRequestContext(services, req, res);
  // While draining, every response closes its connection so keep-alive viewers move on.
  if (services.state.draining) res.shouldKeepAlive = false;
  try {
    if (!filterRequest(services, ctx)) return;
    if (!resolveCacheKey(services, ctx)) return;
    if (UNSAFE_METHODS.has(req.method!)) {
      forwardUnsafe(services, ctx);
      return;
    }
    serveFromCacheOrOrigin(services, ctx);
    prefetchNext(services, ctx.key);
  } catch (error) {
    internalError(services, ctx, error);
  }
}

/** Phase 3: answer from the cache lookup, or fill from the origin. */
function serveFromCacheOrOrigin(services: EdgeServices, ctx: RequestContext): void {
  const lookup = lookupCache(services.store, ctx.key, Date.now(), ctx.forwarded);
  switch (lookup.kind) {
    case 'fresh':
      sendEntry(services, ctx, lookup.entry, { outcome: 'fresh' });
      return;
    case 'stale-while-revalidate':
      sendEntry(services, ctx, lookup.entry, { outcome: 'stale-while-revalidate' });
      startBackgroundFill(services, ctx.key, lookup.entry);
      return;
    case 'revalidate':
      readThroughFlight(services, ctx, lookup.stale);
      return;
    case 'expired':
      // Nothing left to revalidate or fall back on: it only takes room until the fill replaces it.
      forgetResponse(services.store, ctx.key, lookup.entry);
      readThroughFlight(services, ctx, undefined);
      return;
    case 'miss':
      readThroughFlight(services, ctx, undefined);
      return;
    case 'partial': {
      const use = partialUse(ctx, lookup.partial, Date.now());
      if (use === 'serve') sendPartialHit(services, ctx, lookup.partial, Date.now());
      // A range the parts do not hold is asked for alone and combined with them; one they hold
      // stale is asked for conditionally. A request for the whole object fetches it whole.
      else if (ctx.req.headers.range !== undefined && !ctx.head) passThrough(services, ctx, use === 'revalidate' ? lookup.partial : undefined);
      else readThroughFlight(services, ctx, undefined);
      return;
    }
  }
}

function internalError(services: EdgeServices, ctx: RequestContext, error: unknown): void {
  services.logger.error({ err: (error as Error).stack ?? String(error), key: ctx.key }, 'internal error');
  ctx.outcome = 'failed';
  ctx.detail = 'internal';
  if (!ctx.res.headersSent) sendText(services, ctx, 500, 'internal error');
  else ctx.res.destroy();
}

/** Phase 1: control endpoints, CORS preflight, methods, signed-URL token, malformed headers. False = answered. */
function filterRequest(services: EdgeServices, ctx: RequestContext): boolean {
  const { req } = ctx;
  const controlPath = controlPathOf(req.url ?? '');
  if (controlPath !== undefined) {
    handleControl(services, ctx, controlPath);
    return false;
  }
  if (req.method === 'OPTIONS') {
    ctx.outcome = 'answered-here';
    ctx.res.writeHead(204, [
      ...services.commonHeaders,
      'access-control-allow-methods', ALLOWED_METHODS,
      'access-control-allow-headers', 'Range, If-None-Match, If-Modified-Since, If-Range, X-Streamedge-Region, Content-Type',
      'access-control-max-age', '86400',
    ]);
    ctx.res.end();
    account(services, ctx);
    return false;
  }
  const method = req.method ?? '';
  if (REFUSED_METHODS.has(method)) {
    reject(services, ctx, 405, `method ${method} not allowed`, 'method', ['allow', ALLOWED_METHODS]);
    return false;
  }
  if (method !== 'GET' && method !== 'HEAD' && !UNSAFE_METHODS.has(method)) {
    // RFC 9110 §15.6.2: a method the edge does not implement at all.
    reject(services, ctx, 501, `method ${method} not implemented`, 'method', ['allow', ALLOWED_METHODS]);
    return false;
  }
  acceptPeerHop(services, ctx);
  // Signed URLs: refused before any cache or origin work; the token is never part of the key.
  // The title listing stays public (the player's picker and the balancer read it unsigned); only
  // its exact spelling is exempt, so any other form of the path still needs a token. A peer's
  // signed hop stands for the token the first edge checked.
  if (services.urlTokens && ctx.peerHop === undefined && (req.url ?? '').split('?')[0] !== PUBLIC_LISTING_PATH) {
    const check = services.urlTokens.check(req.url ?? '', req.socket.remoteAddress);
    if (!check.ok) {
      reject(services, ctx, 403, check.reason, 'token');
      return false;
    }
    ctx.tokenQuery = check.tokenQuery;
  }
  // The edge cannot pass a broken Range on, so it is refused before any origin work.
  const range = req.headers.range;
  if (range !== undefined && !isWellFormedRange(range)) {
    reject(services, ctx, 416, 'malformed Range header', 'range');
    return false;
  }
  return true;
}

/** A peer's hop header is believed only with a valid signature for this very target (peer-hop.ts); otherwise ignored. */
function acceptPeerHop(services: EdgeServices, ctx: RequestContext): void {
  const hop = ctx.req.headers[PEER_HOP_HEADER];
  if (hop === undefined || services.peerHops === undefined) return;
  if (services.peerHops.verify(hop, ctx.req.url ?? '') === undefined) {
    services.metrics.peerHops.labels('refused').inc();
    return;
  }
  services.metrics.peerHops.labels('believed').inc();
  ctx.peerHop = hop as string;
}

function reject(services: EdgeServices, ctx: RequestContext, status: number, message: string, reason: string, headers: readonly string[] = []): void {
  services.metrics.badRequests.labels(reason).inc();
  ctx.outcome = 'answered-here';
  sendText(services, ctx, status, message, headers);
}

/** Phase 2: the explicit cache key (normalized path + allow-listed query parameters). */
function resolveCacheKey(services: EdgeServices, ctx: RequestContext): boolean {
  const result = services.cacheKey(ctx.req.url ?? '');
  if (!result.ok) {
    reject(services, ctx, result.status, `bad request target: ${result.reason}`, 'target');
    return false;
  }
  // Control paths are matched exactly in the filter phase; any other spelling of one is refused here.
  if (isDisguisedControlPath(result.key)) {
    reject(services, ctx, 400, 'bad request target: a control path must be spelled exactly', 'control-path');
    return false;
  }
  ctx.key = result.key;
  return true;
}
