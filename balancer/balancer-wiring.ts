// Builds the balancer's parts once and connects them: health, router, fronts, catalog, metrics.
// Which endpoint answers a request is balancer-routes.ts's business.
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { ServerCredentials } from '../infra/tls/tls-credentials.js';
import type { Socket } from 'node:net';
import type { Logger } from '../infra/runtime/logger.js';
import { answerHalfClosedClients, capTlsHandshakes, createViewerConnectionGuard, takeConnectionHandler, viewerLimits, viewerServerOptions, type ViewerConnectionLimits } from '../infra/http/viewer-connections.js';
import { trackRawReplies } from '../infra/http/raw-replies.js';
import type { ClusterReports } from './balancer-cluster.js';
import { createBalancerMetrics, type BalancerMetrics } from './balancer-metrics.js';
import { createCatalogCache } from './catalog-cache.js';
import { createDashboardData } from './dashboard/dashboard-data.js';
import { createEdgeSampler } from './dashboard/edge-samples.js';
import { createPrometheusSource } from './dashboard/prometheus-series.js';
import type { DiscoveryStatus } from './discovery/edge-discovery.js';
import type { UrlTokenVerifier } from '../infra/auth/url-token.js';
import { IGNORED_REASONS } from '../infra/consul/registration-screen.js';
import { createBalancerRoutes } from './balancer-routes.js';
import { createEdgeAgent, createEdgeFetcher, type EdgeFetcher } from './fronts/edge-fetch.js';
import { watchEdgeLiveness } from './health/edge-liveness.js';
import { createAssetPlacements } from './selection/asset-placements.js';
import { createEdgeRouter, type EdgeRouter } from './selection/edge-router.js';
import type { EdgeSnapshot } from './discovery/edge-snapshot.js';
import type { Front, FrontName } from './fronts/front.js';
import type { IpPrefix } from '../infra/net/ip-prefix-table.js';
import type { LocationTable } from './location/location-table.js';
import { createPassiveHealth, probeHealthz, type EjectionReason, type PassiveHealth } from './health/passive-health.js';
import type { EdgeNode } from './discovery/edge-node.js';
import { createPlayerFiles } from './player-files.js';
import { createProxyFront, type ProxyFront } from './fronts/proxy-front.js';
import { createRedirectFront } from './fronts/redirect-front.js';
import { createSessionTracker, type SessionTracker } from './selection/session-tracker.js';
import { buildStatusReport, type StatusReport } from './status-report.js';
import type { ShieldStatus } from './discovery/shield-watch.js';
import { createSteeringFront, type SteeringFront } from './fronts/steering-front.js';

export interface BalancerOptions {
  readonly mode: FrontName;
  readonly logger: Logger;
  readonly locations: LocationTable;
  readonly trustedProxies: readonly IpPrefix[];
  readonly hintsEnabled: boolean;
  readonly balanceFactor: number;
  readonly playerDir: string;
  readonly sessionTtlMs: number;
  readonly maxSessions: number;
  readonly steeringTtlSeconds: number;
  readonly ejectBackoffMs: number;
  readonly ejectMaxBackoffMs: number;
  readonly connectTimeoutMs: number;
  /** No headers from an edge by then: its /healthz decides whether it is at fault. */
  readonly responseTimeoutMs: number;
  /** The longest wait for headers from an edge that passes its /healthz (its origin is slow). */
  readonly edgeWaitMs: number;
  readonly maxAttempts: number;
  readonly slowThroughputBps: number;
  readonly slowRatio: number;
  readonly maxPathways: number;
  /** Periodic /healthz probe of every available edge; 0 = only on dropped connections. */
  readonly probeIntervalMs: number;
  /** With --workers: /metrics and /status answer for the whole cluster through these. */
  readonly cluster?: ClusterReports;
  /** Signed URLs: media and steering requests need a token this verifier accepts. */
  readonly urlTokens?: UrlTokenVerifier | undefined;
  /** The dashboard reads this Prometheus's recording rules; without it, the edges' /metrics. */
  readonly prometheusUrl?: string;
  /** Viewer connection timeouts and caps (infra/http/viewer-connections.ts; defaults there). */
  readonly connections?: Partial<ViewerConnectionLimits>;
  /** /metrics and /status need `Authorization: Bearer <this>`; the dashboard's edge scrapes send it. */
  readonly metricsToken?: string | undefined;
  /** Serve viewers over TLS (HTTP/1.1; see the README for why not HTTP/2 here). */
  readonly tls?: Pick<ServerCredentials, 'cert' | 'key'> | undefined;
  /** Extra CA (PEM) trusted for https edges, beside the system roots. */
  readonly edgeCa?: string | undefined;
}

export interface Balancer {
  /** node:http, or node:https with `tls` (an https.Server is an http.Server too). */
  readonly server: Server;
  readonly router: EdgeRouter;
  readonly health: PassiveHealth;
  readonly sessions: SessionTracker;
  readonly metrics: BalancerMetrics;
  /** This process's /status report (with --workers, this worker's share). */
  status(): StatusReport;
  /** Discovery delivers snapshots here. */
  setSnapshot(snapshot: EdgeSnapshot): void;
  /** Discovery status, for /status and metrics. */
  setDiscoveryStatus(status: () => DiscoveryStatus): void;
  /** The shield tier shown on /status (Consul discovery only). */
  setShields(shields: () => readonly ShieldStatus[]): void;
  close(): Promise<void>;
}

/** Defaults an operator would pick; the command exposes each as a flag. */
export const BALANCER_DEFAULTS = {
  balanceFactor: 1.25,
  sessionTtlMs: 30_000,
  maxSessions: 100_000,
  steeringTtlSeconds: 4,
  ejectBackoffMs: 5_000,
  ejectMaxBackoffMs: 60_000,
  connectTimeoutMs: 1_000,
  responseTimeoutMs: 5_000,
  // Above an edge's hold wait for a Low-Latency HLS blocking reload (its --hold-wait, 7 s), so a
  // held request is waited for, its edge probed but never blamed, and never retried elsewhere.
  edgeWaitMs: 30_000,
  maxAttempts: 3,
  slowThroughputBps: 300_000,
  slowRatio: 0.5,
  maxPathways: 5,
  probeIntervalMs: 500,
} as const;

/** A static edge list has nothing to ignore; the gauge still shows every reason at 0. */
const NONE_IGNORED = Object.fromEntries(IGNORED_REASONS.map((reason) => [reason, 0]));

// An edge's cache holds a title long after its viewers leave (VOD objects are immutable and large
// caches turn over in tens of minutes); forgetting sooner only costs an extra copy of a title.
const PLACEMENT_MEMORY_MS = 15 * 60_000;
const PLACEMENT_MAX_ASSETS = 100_000;
/** Kept-alive connections from one process to one edge in proxy mode (a viewer connection holds at most one). */
const PROXY_MAX_CONNECTIONS_PER_EDGE = 512;
/** node:http's limit on a request head, and the fast path's. */
const MAX_HEADER_BYTES = 16 * 1024;
/** Edge /metrics scrapes under way at once for one /dashboard/samples request. */
const DASHBOARD_SCRAPE_CONCURRENCY = 8;

export function createBalancer(options: BalancerOptions): Balancer {
  const log = options.logger;
  let shields: () => readonly ShieldStatus[] = () => [];
  let discoveryStatus: () => DiscoveryStatus = () => ({ source: 'static', reachable: true, lastSuccessAt: undefined, lastError: undefined });
  const agent = createEdgeAgent(options.connectTimeoutMs, options.responseTimeoutMs, options.edgeCa);
  // Connecting is bounded by the pool's connect timeout; a loaded edge gets the response timeout to answer.
  const probe = (edge: EdgeNode): Promise<EjectionReason | undefined> => probeHealthz(edge, options.responseTimeoutMs, agent);
  const sessions = createSessionTracker({ ttlMs: options.sessionTtlMs, maxSessions: options.maxSessions });
  // The metric collectors read router and health lazily, at scrape time.
  const metrics = createBalancerMetrics({
    snapshotAgeSeconds: () => {
      const at = discoveryStatus().lastSuccessAt;
      return at === undefined ? -1 : (Date.now() - at) / 1000;
    },
    consulReachable: () => discoveryStatus().reachable,
    edges: () => {
      const loads = sessions.loads();
      return router.snapshot.edges.map((edge) => ({ id: edge.id, state: health.health(edge.id).state, sessions: loads.get(edge.id) ?? 0 }));
    },
    openConnections: () => guard.open,
    ignoredEdges: () => discoveryStatus().ignored ?? NONE_IGNORED,
    proxyUpstream: () => proxy?.upstreamStats() ?? { open: 0, queued: 0, readBufferBytes: 0 },
  });
  const limits = viewerLimits(options.connections, 'balancer');
  const guard = createViewerConnectionGuard(limits, metrics.connectionObserver);
  const health = createPassiveHealth({
    logger: log,
    backoffMs: options.ejectBackoffMs,
    maxBackoffMs: options.ejectMaxBackoffMs,
    probe,
    onEject: (edge, reason) => metrics.ejected(edge.id, reason),
  });
  const router = createEdgeRouter({
    locations: options.locations,
    trustedProxies: options.trustedProxies,
    hintsEnabled: options.hintsEnabled,
    balanceFactor: options.balanceFactor,
    health,
    sessions,
    placements: createAssetPlacements({ memoryMs: PLACEMENT_MEMORY_MS, maxAssets: PLACEMENT_MAX_ASSETS }),
    onSelected: (edge) => metrics.selected(edge.id),
  });
  const liveness = watchEdgeLiveness({ agent, health, snapshot: () => router.snapshot, intervalMs: options.probeIntervalMs, probe });
  const fetcher: EdgeFetcher = createEdgeFetcher({
    health,
    agent,
    responseTimeoutMs: options.responseTimeoutMs,
    maxWaitMs: options.edgeWaitMs,
    maxAttempts: options.maxAttempts,
    blame: metrics.blamed,
  });
  const proxy: ProxyFront | undefined =
    options.mode === 'proxy'
      ? createProxyFront({
          health,
          trustedProxies: options.trustedProxies,
          connectTimeoutMs: options.connectTimeoutMs,
          responseTimeoutMs: options.responseTimeoutMs,
          maxWaitMs: options.edgeWaitMs,
          maxAttempts: options.maxAttempts,
          maxConnectionsPerEdge: PROXY_MAX_CONNECTIONS_PER_EDGE,
          blame: metrics.blamed,
          edgeCa: options.edgeCa,
        })
      : undefined;
  const redirect = createRedirectFront();
  const demotionMs = Math.max(options.sessionTtlMs, options.steeringTtlSeconds * 3000);
  const steering: SteeringFront = createSteeringFront({
    fetcher,
    health,
    sessions,
    fallback: redirect,
    ttlSeconds: options.steeringTtlSeconds,
    slowness: { slowBelowBps: options.slowThroughputBps, slowRatio: options.slowRatio, reportMemoryMs: 2 * demotionMs },
    demotionMs,
    maxPathways: options.maxPathways,
  });
  const front: Front = proxy ?? (options.mode === 'redirect' ? redirect : steering);
  const catalog = createCatalogCache({ fetcher, freshMs: 5_000, staleIfErrorMs: 300_000 });
  const servePlayer = createPlayerFiles(options.playerDir);
  const dashboard = createDashboardData({
    sampler: createEdgeSampler({ timeoutMs: options.responseTimeoutMs, concurrency: DASHBOARD_SCRAPE_CONCURRENCY, bearerToken: options.metricsToken, dispatcher: agent }),
    prometheus: options.prometheusUrl ? createPrometheusSource({ url: options.prometheusUrl, timeoutMs: options.responseTimeoutMs }) : undefined,
  });

  const status = (): StatusReport =>
    buildStatusReport({
      mode: options.mode,
      balanceFactor: options.balanceFactor,
      snapshot: router.snapshot,
      discovery: discoveryStatus(),
      health: (id) => health.health(id),
      loads: sessions.loads(),
      activeSessions: sessions.size,
      shields: shields(),
    });

  const serverOptions = { maxHeaderSize: MAX_HEADER_BYTES, ...viewerServerOptions(limits) };
  const routes = createBalancerRoutes({ mode: options.mode, log, router, health, metrics, front, steering, catalog, servePlayer, status, dashboard, cluster: options.cluster, urlTokens: options.urlTokens, metricsToken: options.metricsToken });
  // Over TLS the handshake is part of the request head's time budget.
  const server: Server = options.tls
    ? createHttpsServer({ ...serverOptions, cert: options.tls.cert, key: options.tls.key, handshakeTimeout: limits.headersTimeoutMs }, routes)
    : createServer(serverOptions, routes);
  // Malformed requests and oversized headers get a clear status instead of a silent close.
  const rawReplies = trackRawReplies(server);
  server.on('clientError', (error: Error & { code?: string }, socket: Socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    // No body: the request may have been a HEAD.
    rawReplies.send(socket, `HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });
  answerHalfClosedClients(server);
  const readyEvent = options.tls ? 'secureConnection' : 'connection';
  if (options.tls) capTlsHandshakes(server, limits, metrics.connectionObserver);
  const serveHttp = takeConnectionHandler(server, readyEvent);
  // Proxy mode over plain HTTP: viewers' connections start on the fast path for plain GETs.
  const fastPath = proxy && !options.tls
    ? proxy.fastPath({
        router,
        log,
        onOutcome: (outcome) => metrics.request('proxy', outcome),
        urlTokens: options.urlTokens,
        handOver: serveHttp,
        maxHeadBytes: MAX_HEADER_BYTES,
        keepAliveTimeoutMs: limits.keepAliveTimeoutMs,
        headersTimeoutMs: limits.headersTimeoutMs,
      })
    : undefined;
  server.on(readyEvent, (socket: Socket) => {
    if (!guard.admit(socket)) return;
    if (fastPath) fastPath.accept(socket);
    else serveHttp(socket);
  });
  if (fastPath) {
    // closeGracefully (infra/runtime/http-lifecycle.ts) closes node:http's connections through
    // these; the fast path's own connections close with them.
    const closeIdle = server.closeIdleConnections.bind(server);
    const closeAll = server.closeAllConnections.bind(server);
    server.closeIdleConnections = () => {
      closeIdle();
      fastPath.closeIdle();
    };
    server.closeAllConnections = () => {
      closeAll();
      fastPath.destroyAll();
    };
  }

  return {
    server,
    router,
    health,
    sessions,
    metrics,
    status,
    setSnapshot: (snapshot) => router.setSnapshot(snapshot),
    setDiscoveryStatus: (getter) => {
      discoveryStatus = getter;
    },
    setShields: (getter) => {
      shields = getter;
    },
    async close() {
      guard.stop();
      liveness.stop();
      health.stop();
      await front.close?.();
      await agent.close();
    },
  };
}
