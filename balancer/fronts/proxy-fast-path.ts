// The proxy front's fast path: most requests a proxying balancer sees are plain GETs of media on
// kept-alive connections, and for small objects node:http's request and response objects plus
// undici's dispatch cost several times the work of moving the bytes. Each viewer connection in
// proxy mode starts here: a request in the simple shape (infra/http/request-head.ts) for a valid
// media path, with an accepted token if tokens are checked, from a viewer the router can place,
// to http edges, is routed and piped to a pooled raw connection to its edge (raw-proxy-attempt.ts)
// under the same retry, health and blame rules as the undici path (proxy-retries.ts). Anything
// else — a control endpoint, a refused token, a bad region hint, an https edge, a partial or
// unusual head — hands the connection, with every unread byte, to node:http for the rest of its
// life (infra/http/fast-path-connections.ts reads and hands over).
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { UrlTokenVerifier } from '../../infra/auth/url-token.js';
import { createFastPathConnections } from '../../infra/http/fast-path-connections.js';
import type { SimpleRequestHead } from '../../infra/http/request-head.js';
import type { IpPrefix } from '../../infra/net/ip-prefix-table.js';
import { createTurnCorker } from '../../infra/net/turn-corker.js';
import type { Logger } from '../../infra/runtime/logger.js';
import { regionHints, ViewerInputError, type ViewerLocation, type ViewerRequest } from '../location/viewer-location.js';
import { parseMediaTarget } from '../request-target.js';
import type { EdgeRouter } from '../selection/edge-router.js';
import type { EdgeConnectionPool } from './edge-connection-pool.js';
import { edgeTarget } from './edge-target.js';
import type { FrontOutcome } from './front.js';
import { requestHeadersForEdge } from './proxy-headers.js';
import { proxyWithRetries, type ProxyRetryOptions } from './proxy-retries.js';
import { startRawAttempt, type RawAttempt } from './raw-proxy-attempt.js';

export interface ProxyFastPathOptions extends ProxyRetryOptions {
  readonly pool: EdgeConnectionPool;
  readonly router: EdgeRouter;
  readonly log: Logger;
  readonly trustedProxies: readonly IpPrefix[];
  /** Counts each request's outcome, as the node:http path does. */
  readonly onOutcome: (outcome: FrontOutcome) => void;
  readonly urlTokens?: UrlTokenVerifier | undefined;
  /** node:http's connection handler: takes over a socket (unread bytes already put back). */
  readonly handOver: (socket: Socket) => void;
  /** Longest request head (and edge response head) read here. */
  readonly maxHeadBytes: number;
  /** An idle kept-alive connection is closed after this long (node:http's keepAliveTimeout). */
  readonly keepAliveTimeoutMs: number;
  /** A new connection's first request head must arrive within this long (node:http's headersTimeout). */
  readonly headersTimeoutMs: number;
}

export interface ProxyFastPath {
  /** Serves a newly accepted connection. */
  accept(socket: Socket): void;
  /** Shutdown: ends idle connections now and busy ones once their response is out. */
  closeIdle(): void;
  /** Shutdown past its grace period: cuts them. */
  destroyAll(): void;
}

interface ConnectionState {
  /** The try at an edge under way, told when the viewer's connection drains or closes. */
  attempt: RawAttempt | undefined;
  /** What the fields of the connection's last request gave (see FieldsDerived). */
  derived: FieldsDerived | undefined;
}

/**
 * What a request's fields and its connection give, made again only when the fields change: a
 * player sends the same fields with every request of a connection, from the same peer.
 */
interface FieldsDerived {
  /** The field map it was made from (parseRequestHead hands the same map on for the same fields). */
  readonly fields: ReadonlyMap<string, string>;
  /** The request without its target: its fields as a record, and the connection. */
  readonly request: ViewerRequest;
  /** The fields the edge is sent (`name: value\r\n`…): end-to-end ones and X-Forwarded-For/-Proto. */
  readonly edgeFields: string;
  /** Where the viewer is, once located without a region hint (with one, it is located per request). */
  located: ViewerLocation | undefined;
}

interface Served {
  /** The connection cannot carry another request (the response was delimited by closing). */
  readonly close: boolean;
}

export function createProxyFastPath(options: ProxyFastPathOptions): ProxyFastPath {
  const { router, pool, log } = options;
  const connections = createFastPathConnections({
    name: 'proxy fast path',
    log,
    handOver: options.handOver,
    maxHeadBytes: options.maxHeadBytes,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs,
    headersTimeoutMs: options.headersTimeoutMs,
  });
  const keepAliveFields = `connection: keep-alive\r\nkeep-alive: timeout=${Math.floor(options.keepAliveTimeoutMs / 1000)}\r\n`;
  const corker = createTurnCorker();

  /** A short plain-text error, as http-responses.ts's sendError writes it. */
  const errorResponse = (method: string, status: number, reason: string, headers: Record<string, string> = {}): string => {
    const body = `${reason}\n`;
    let text = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\n`;
    for (const [name, value] of Object.entries(headers)) text += `${name}: ${value}\r\n`;
    return `${text}${keepAliveFields}\r\n${method === 'HEAD' ? '' : body}`;
  };

  /** Proxies `head` if it is plain; false when node:http must answer it. */
  const serve = (socket: Socket, connection: ConnectionState, head: SimpleRequestHead): Promise<Served> | false => {
    if (!(head.target.startsWith('/vod/') || head.target.startsWith('/live/'))) return false;
    const parsed = parseMediaTarget(head.target);
    if (!('target' in parsed)) return false;
    const target = parsed.target;
    if (options.urlTokens && !options.urlTokens.check(head.target, socket.remoteAddress).ok) return false;
    let derived = connection.derived;
    if (derived?.fields !== head.headers) {
      const request: ViewerRequest = { headers: Object.fromEntries(head.headers), socket };
      let edgeFields = '';
      for (const [name, value] of Object.entries(requestHeadersForEdge(request, options.trustedProxies))) {
        if (typeof value === 'string') edgeFields += `${name}: ${value}\r\n`;
        else for (const each of value) edgeFields += `${name}: ${each}\r\n`;
      }
      derived = connection.derived = { fields: head.headers, request, edgeFields, located: undefined };
    }
    let route;
    try {
      const hinted = regionHints(head.target).length > 0;
      let viewer = hinted ? undefined : derived.located;
      if (!viewer) {
        viewer = router.locate({ ...derived.request, url: head.target });
        if (viewer.source !== 'hint') derived.located = viewer;
      }
      route = router.routeLocated(viewer, target.assetKey);
    } catch (error) {
      if (error instanceof ViewerInputError) return false;
      throw error;
    }
    if (route.candidates.some((edge) => edgeTarget(edge).secure)) return false;
    const fields = derived.edgeFields;
    const path = `${target.path}${target.query ? `?${target.query}` : ''}`;
    const outcome = proxyWithRetries(options, {
      route,
      router,
      log,
      path: target.path,
      retryable: true,
      start(edge, onEdgeHeaders) {
        const destination = edgeTarget(edge);
        connection.attempt = startRawAttempt({
          viewer: socket,
          pool,
          target: destination,
          method: head.method,
          requestHead: `${head.method} ${destination.prefix}${path} HTTP/1.1\r\nhost: ${destination.host}\r\n${fields}\r\n`,
          responseTimeoutMs: options.responseTimeoutMs,
          maxHeadBytes: options.maxHeadBytes,
          keepAliveFields,
          corker,
          onEdgeHeaders,
        });
        return connection.attempt;
      },
      sendError: (status, reason, headers) => socket.write(errorResponse(head.method, status, reason, headers), 'latin1'),
      cut: () => socket.destroy(),
    });
    return outcome.then((result) => {
      options.onOutcome(result);
      const close = result === 'proxied' && connection.attempt?.viewerMustClose === true;
      connection.attempt = undefined;
      return { close };
    });
  };

  return {
    accept(socket) {
      const state: ConnectionState = { attempt: undefined, derived: undefined };
      connections.accept(socket, {
        serve: (head) => serve(socket, state, head),
        drained: () => state.attempt?.viewerDrained(),
        closed: () => state.attempt?.viewerClosed(),
      });
    },
    closeIdle: () => connections.closeIdle(),
    destroyAll: () => connections.destroyAll(),
  };
}
