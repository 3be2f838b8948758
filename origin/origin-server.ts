import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { ServerCredentials } from '../infra/tls/tls-credentials.js';
import type { AddressInfo, Socket } from 'node:net';
import { closeGracefully, listen } from '../infra/runtime/http-lifecycle.js';
import { createLogger, type Logger } from '../infra/runtime/logger.js';
import { createFileStore } from './file-store.js';
import { createOriginMetrics, type OriginMetrics, type RouteKind } from './origin-metrics.js';
import { classifyRoute, createOriginRoutes } from './origin-routes.js';
import { createPlaylistUpdateWaiters } from './playlist-update-waiters.js';
import { HttpError, sendError, sendRepresentation } from './representation.js';
import { parseRequestTarget } from './request-path.js';

export interface OriginServerOptions {
  readonly contentDir: string;
  /** Instance name, sent as X-Origin-Id and used in logs. */
  readonly id?: string;
  /** Wall clock in ms; tests pin it to check when a live playlist counts as stalled. */
  readonly clock?: () => number;
  readonly logger?: Logger;
  readonly maxCachedBytes?: number;
  readonly maxCachedFileBytes?: number;
  /** LL-HLS requests held at once for playlist updates (default 10,000); more are answered 503. */
  readonly maxHeldRequests?: number;
  /** Serve HTTPS (HTTP/1.1: edges are the only clients) with this certificate and key. */
  readonly tls?: Pick<ServerCredentials, 'cert' | 'key'> | undefined;
}

export interface OriginServer {
  readonly server: Server;
  readonly metrics: OriginMetrics;
  /** While draining /readyz answers 503, so balancers stop sending new work. */
  setDraining(draining: boolean): void;
}

export async function createOriginServer(options: OriginServerOptions): Promise<OriginServer> {
  if (typeof options.contentDir !== 'string' || options.contentDir === '') throw new TypeError('createOriginServer: contentDir must be a directory');
  const contentStats = await stat(options.contentDir).catch(() => undefined);
  if (!contentStats?.isDirectory()) {
    throw new TypeError(`createOriginServer: content directory ${options.contentDir} does not exist (make it with \`streamedge content\`)`);
  }
  const id = options.id ?? 'origin';
  const log = options.logger ?? createLogger('origin', id);
  let openConnections = 0;
  const metrics = createOriginMetrics(() => openConnections);
  let draining = false;
  // Polled every 20 ms while requests wait: a part is seen at most 20 ms after it is written.
  const waiters = createPlaylistUpdateWaiters({
    maxHeld: options.maxHeldRequests ?? 10_000,
    pollMs: 20,
    onHeld: (delta) => metrics.held(delta),
    onOutcome: (outcome) => metrics.holdEnded(outcome),
  });
  const resolve = createOriginRoutes({
    contentDir: options.contentDir,
    store: await createFileStore({ root: options.contentDir, maxCachedBytes: options.maxCachedBytes, maxCachedFileBytes: options.maxCachedFileBytes }),
    clock: options.clock ?? Date.now,
    metrics,
    isDraining: () => draining,
    log,
    waiters,
  });

  // Phases: check the method → validate the path → classify → resolve → send; every ending is
  // counted and a failure only ever affects its own request.
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    let kind: RouteKind = 'invalid';
    let sent = 0;
    response.setHeader('X-Origin-Id', id);
    response.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.observe(kind, response.statusCode, sent, seconds);
      log.debug({ method: request.method, url: request.url?.slice(0, 200), status: response.statusCode, kind, bytes: sent, ms: Math.round(seconds * 1000) }, 'request');
    });
    const gone = new AbortController();
    response.once('close', () => gone.abort());
    try {
      if (request.method !== 'GET' && request.method !== 'HEAD') throw new HttpError(405, 'method not allowed', { Allow: 'GET, HEAD' });
      const target = parseRequestTarget(request.url);
      if (!target.ok) throw new HttpError(target.status, target.reason);
      kind = classifyRoute(target.segments);
      const queryAt = request.url!.indexOf('?');
      const query = new URLSearchParams(queryAt === -1 ? '' : request.url!.slice(queryAt + 1).split('#', 1)[0]);
      sent = await sendRepresentation(request, response, await resolve({ segments: target.segments, query, signal: gone.signal }));
    } catch (error) {
      if (response.headersSent) {
        // Mid-body failure: cut the connection so the client sees an error, never a short object.
        log.warn({ err: (error as Error).message, url: request.url?.slice(0, 200) }, 'response aborted');
        response.destroy();
        return;
      }
      if (!(error instanceof HttpError)) log.error({ err: error, url: request.url?.slice(0, 200) }, 'request failed');
      sendError(request, response, error instanceof HttpError ? error : new HttpError(500, 'internal error'));
    }
  };

  const server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, (request, response) => void handle(request, response))
    : createServer((request, response) => void handle(request, response));
  server.once('close', () => waiters.close());
  // The TCP connection (under TLS too): counted from accept to close, whatever it carried.
  server.on('connection', (socket: Socket) => {
    openConnections++;
    socket.once('close', () => openConnections--);
  });
  return {
    server,
    metrics,
    setDraining: (value) => {
      draining = value;
    },
  };
}

export interface RunningOrigin extends OriginServer {
  readonly url: string;
  readonly port: number;
  close(graceMs?: number): Promise<void>;
}

/** Creates and starts an origin in this process (tests of other components use this). */
export async function startOriginServer(options: OriginServerOptions & { readonly port?: number; readonly host?: string }): Promise<RunningOrigin> {
  const origin = await createOriginServer(options);
  const host = options.host ?? '127.0.0.1';
  const address: AddressInfo = await listen(origin.server, options.port ?? 0, host);
  return {
    ...origin,
    url: baseUrl(host, address.port, options.tls ? 'https' : 'http'),
    port: address.port,
    close: (graceMs = 5000) => closeGracefully(origin.server, graceMs),
  };
}

/** The URL clients use: a wildcard bind is reached through loopback. */
export function baseUrl(host: string, port: number, scheme: 'http' | 'https' = 'http'): string {
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `${scheme}://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}
