import type { IncomingMessage, ServerResponse } from 'node:http';
import { forwardedRequestHeaders } from '../upstream/forwarded-request.js';
import type { EdgeServices } from './edge-services.js';
import type { ServeOutcome } from './serve-outcome.js';

/** Everything the request phases learn about one request, in one typed place (logged at the end). */
export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly head: boolean;
  /** Cache key (= origin-form target sent upstream); set by the cache-key phase. */
  key: string;
  /** A signed URL's token parameters, carried into the URIs of a playlist served to it ('' = none). */
  tokenQuery: string;
  /**
   * The request fields a fetch on its behalf forwards (RFC 9110 §7.6), lower-case names: what the
   * origin sees, so also what a response's Vary is matched against (RFC 9111 §4.1).
   */
  readonly forwarded: Readonly<Record<string, string>>;
  /** How it was answered (its cache status follows from this: serve-outcome.ts). */
  outcome: ServeOutcome;
  /** Why it was not stored / what went wrong, when there is a reason worth printing. */
  detail: string | undefined;
  /** A peer's believed hop header (peer-hop.ts): this request goes past the peer tier, and a worker hop carries it on. */
  peerHop: string | undefined;
  /** This request waited on another request's origin fetch. */
  collapsed: boolean;
  /** Origin replica that produced the body, when the origin was involved. */
  replica: string | undefined;
  upstreamStatus: number | undefined;
  /** performance.now() at arrival and at the first response byte. */
  readonly startedAt: number;
  firstByteAt: number | undefined;
  bodyBytes: number;
  /** The response has been accounted (metrics, log) — once only. */
  finished: boolean;
}

/**
 * The fields a fetch on behalf of `req` forwards; a background fill with no viewer behind it sends
 * only the edge's own Via and X-Forwarded-Proto.
 */
export function forwardedFields(services: EdgeServices, req: IncomingMessage | undefined): Record<string, string> {
  return forwardedRequestHeaders(req?.headers ?? {}, {
    clientAddress: req?.socket.remoteAddress,
    protocol: req && 'encrypted' in req.socket ? 'https' : 'http',
    via: `1.1 ${services.cacheName}`,
    stripped: services.strippedRequestHeaders,
  });
}

export function createRequestContext(services: EdgeServices, req: IncomingMessage, res: ServerResponse): RequestContext {
  return {
    req,
    res,
    head: req.method === 'HEAD',
    key: '',
    tokenQuery: '',
    forwarded: forwardedFields(services, req),
    outcome: 'fetched',
    detail: undefined,
    peerHop: undefined,
    collapsed: false,
    replica: undefined,
    upstreamStatus: undefined,
    startedAt: performance.now(),
    firstByteAt: undefined,
    bodyBytes: 0,
    finished: false,
  };
}
