import type { IncomingMessage, ServerResponse } from 'node:http';
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
  /** How it was answered (its cache status follows from this: serve-outcome.ts). */
  outcome: ServeOutcome;
  /** Why it was not stored / what went wrong, when there is a reason worth printing. */
  detail: string | undefined;
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

export function createRequestContext(req: IncomingMessage, res: ServerResponse): RequestContext {
  return {
    req,
    res,
    head: req.method === 'HEAD',
    key: '',
    tokenQuery: '',
    outcome: 'fetched',
    detail: undefined,
    collapsed: false,
    replica: undefined,
    upstreamStatus: undefined,
    startedAt: performance.now(),
    firstByteAt: undefined,
    bodyBytes: 0,
    finished: false,
  };
}
