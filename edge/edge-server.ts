// Composes an edge: cache store, flight table, origin client and source, metrics, and the HTTP
// server running the request phases: plain HTTP/1.1, or with TLS, HTTP/2 and HTTP/1.1 chosen by
// ALPN (HTTP/1.1 connections still start on the hit fast path).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { UrlTokenVerifier } from '../infra/auth/url-token.js';
import type { ConsulConnection } from '../infra/consul/consul-connection.js';
import type { IpPrefix } from '../infra/net/ip-prefix-table.js';
import type { Logger } from '../infra/runtime/logger.js';
import { closeGracefully, listen } from '../infra/runtime/http-lifecycle.js';
import { trackRawReplies } from '../infra/http/raw-replies.js';
import type { ServerCredentials } from '../infra/tls/tls-credentials.js';
import { answerHalfClosedClients, capTlsHandshakes, createViewerConnectionGuard, takeConnectionHandler, viewerLimits, viewerServerOptions, type ViewerConnectionLimits } from '../infra/http/viewer-connections.js';
import { entrySize } from './cache/cache-entry.js';
import { createCacheKeyFunction } from './cache/cache-key.js';
import { createMemoryStore } from './cache/memory-store.js';
import { MAX_VARIANTS, storedSize, type StoredResponse } from './cache/variants.js';
import { FlightTable } from './coalesce/flight-table.js';
import { createEdgeMetrics, type EdgeMetrics } from './edge-metrics.js';
import { createPrefetchIndex } from './prefetch.js';
import { createHeldRequests } from './upstream/held-requests.js';
import { createNewKeyRate } from './upstream/new-key-rate.js';
import { createUpstreamClient, type UpstreamClient, type UpstreamInterim } from './upstream/upstream-client.js';
import { DEFAULT_STRIPPED_REQUEST_HEADERS, strippedHeaderSet } from './upstream/forwarded-request.js';
import { startConsulOriginSource, startStaticOriginSource, type OriginSource } from './upstream/origin-source.js';
import { SIBLING_HEADER, type EdgeServices, type EdgeState, type EdgeTier, type FillHead, type PurgeRequest } from './pipeline/edge-services.js';
import { watchService, type ServiceWatch } from '../infra/consul/service-watch.js';
import { createPeerDirectory, type PeerDirectory } from './upstream/peer-directory.js';
import { createPeerHopAuth, PEER_HOP_HEADER } from './upstream/peer-hop.js';
import { EDGE_SERVICE, SHIELD_SERVICE, startConsulShieldSource, staticShieldReplicas, type NodePlace } from './upstream/shield-source.js';
import { registeredReplica } from './upstream/origin-source.js';
import { ALLOWED_METHODS, handleRequest } from './pipeline/request-phases.js';
import { createHitFastPath, type HitFastPath } from './pipeline/hit-fast-path.js';

export const EXPOSED_HEADERS = 'Cache-Status, X-Served-By, Age, Content-Length, Content-Range, ETag';

export interface EdgeOptions {
  readonly id: string;
  readonly logger: Logger;
  /** Static origin base URLs; or … */
  readonly originUrls?: readonly string[];
  /** … a Consul agent to discover `streamedge-origin` from. */
  readonly consul?: ConsulConnection;
  /** Origins discovered in Consul must register their address and URL inside these prefixes (empty = any). */
  readonly originAllow?: readonly IpPrefix[];
  readonly cacheBytes: number;
  readonly maxObjectBytes: number;
  /** Largest request body a POST, PUT, DELETE or PATCH may stream to the origin (default 1 MiB; 0 = none); beyond it, 413. */
  readonly maxRequestBodyBytes?: number;
  readonly allowedQueryParams?: readonly string[];
  readonly hedgeDelayMs?: number;
  readonly originTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** Total time for one origin fetch, body included (default 60 s); the flight ends transient-error after it. */
  readonly originDeadlineMs?: number;
  /** Origin requests in flight per replica (default 64) and across replicas (default 256). */
  readonly originMaxPerReplica?: number;
  readonly originMaxInFlight?: number;
  /** Origin requests waiting for a slot (default 1024) and their longest wait (default 4 s, below the balancer response timeout); beyond either, 503 + Retry-After. */
  readonly originMaxQueued?: number;
  readonly originQueueWaitMs?: number;
  /**
   * How long an origin replica is ejected, after 3 failures in a row or a body failing its ETag
   * check (default 10 s); a replica corrupt again when it comes back stays out twice as long each
   * time, up to originMaxEjectMs (default 160 s), until a body from it checks out.
   */
  readonly originEjectMs?: number;
  readonly originMaxEjectMs?: number;
  /** Longest upstream wait for a Low-Latency HLS request the origin holds (default 7 s: the origin holds up to 3 × a 2 s target duration). */
  readonly holdWaitMs?: number;
  /** Viewer requests waiting on held fetches at once, per process (default 10,000); beyond it, 503 + Retry-After. */
  readonly maxHeldRequests?: number;
  /** How long a coalesced reader waits for the response head before fetching on its own. */
  readonly coalesceWaitMs?: number;
  readonly prefetchCount?: number;
  /** Segment URIs the prefetch index keeps parsed across playlists (default 50,000; LRU). */
  readonly prefetchIndexSegments?: number;
  /** Keys with nothing cached fetched per second, per process (default 1000, burst twice that; 0 = no limit); beyond it 503 + Retry-After. */
  readonly newKeysPerSecond?: number;
  /** How long a 404/410 without explicit freshness is cached, in ms (default 2 s; 0 = not reused). */
  readonly negativeTtlMs?: number;
  /** Viewer request fields never forwarded to the origin (default: cookie, authorization). */
  readonly strippedRequestHeaders?: readonly string[];
  readonly adminToken?: string;
  /** /metrics needs `Authorization: Bearer <this>` (default: open). */
  readonly metricsToken?: string | undefined;
  /** Signed URLs: media requests need a token this verifier accepts (infra/auth/url-token.ts). */
  readonly urlTokens?: UrlTokenVerifier | undefined;
  /** Answer plain fresh hits straight from the socket (hit-fast-path.ts); default on. */
  readonly fastHits?: boolean;
  /** Serve viewers over TLS with this certificate and key (HTTP/2 or HTTP/1.1 by ALPN). */
  readonly tls?: Pick<ServerCredentials, 'cert' | 'key'> | undefined;
  /** Extra CA (PEM) trusted for https origins, beside the system roots. */
  readonly originCa?: string | undefined;
  /** Viewer connection timeouts and caps (infra/http/viewer-connections.ts; defaults there). */
  readonly connections?: Partial<ViewerConnectionLimits>;
  /** Cluster hooks: purge on every worker, metrics of every worker, the sibling owning a key. */
  readonly purgeAll?: (request: PurgeRequest) => Promise<number>;
  readonly metricsText?: () => Promise<{ contentType: string; body: string }>;
  readonly siblingFor?: (key: string) => UpstreamClient | undefined;
  /** `shield`: serves a region's edges, fills from origins (and the owning shield); default `edge`. */
  readonly tier?: EdgeTier;
  /** Region and place: ranks other regions' shields, and picks a region's sibling edges. */
  readonly place?: NodePlace;
  /** Static shield base URLs; without them an edge with `consul` discovers `streamedge-shield`. */
  readonly shieldUrls?: readonly string[];
  /** The fleet's shared secret for peer hops (peer-hop.ts): shields hash keys among all shields with it. */
  readonly peerSecret?: string | undefined;
  /** Edges of this region hash keys to an owner edge and ask it before the shields (needs consul and peerSecret). */
  readonly siblingHashing?: boolean;
}

export interface Edge {
  /** The viewers' server: node:http, or an http2 secure server accepting HTTP/1.1 too. */
  readonly server: Server | Http2SecureServer;
  readonly services: EdgeServices;
  readonly metrics: EdgeMetrics;
  readonly origins: UpstreamClient;
  /** Resolves once origins are known (Consul's first answer). */
  readonly originsReady: Promise<void>;
  listen(port: number, host: string): Promise<string>;
  /** Cluster mode: a private loopback port of this worker alone, for sibling workers. */
  listenPrivate(host: string): Promise<string>;
  /** Purges this process's cache. */
  purgeLocal(request: PurgeRequest): number;
  setDraining(draining: boolean): void;
  /** Stops accepting, lets in-flight responses finish (bounded by graceMs), closes origin pools. */
  close(graceMs: number): Promise<void>;
}

const MAX_HEADER_BYTES = 16 * 1024;
// Short: a live segment asked for a moment early must not stay "not found" for long.
const DEFAULT_NEGATIVE_TTL_MS = 2_000;
const DEFAULT_MAX_REQUEST_BODY_BYTES = 1024 * 1024;
const DEFAULT_HOLD_WAIT_MS = 7_000;
const DEFAULT_MAX_HELD_REQUESTS = 10_000;
/** Bounded loads among a region's shields: none takes more than this × the average in flight. */
const SHIELD_BALANCE_FACTOR = 1.25;

export function createEdge(options: EdgeOptions): Edge {
  if (!options.id || !/^[A-Za-z0-9._-]+$/.test(options.id)) throw new TypeError(`edge: id must be letters, digits, . _ -; got "${options.id}"`);
  const hasStatic = (options.originUrls?.length ?? 0) > 0;
  if (hasStatic === (options.consul !== undefined)) throw new TypeError('edge: give either originUrls or consul (exactly one)');
  const prefetchCount = options.prefetchCount ?? 0;
  if (!Number.isInteger(prefetchCount) || prefetchCount < 0 || prefetchCount > 20) throw new TypeError(`edge: prefetchCount must be 0..20, got ${prefetchCount}`);
  const negativeTtlMs = options.negativeTtlMs ?? DEFAULT_NEGATIVE_TTL_MS;
  if (!Number.isInteger(negativeTtlMs) || negativeTtlMs < 0 || negativeTtlMs > 3_600_000) throw new TypeError(`edge: negativeTtlMs must be an integer 0..3600000, got ${negativeTtlMs}`);
  const maxRequestBodyBytes = options.maxRequestBodyBytes ?? DEFAULT_MAX_REQUEST_BODY_BYTES;
  if (!Number.isSafeInteger(maxRequestBodyBytes) || maxRequestBodyBytes < 0) throw new TypeError(`edge: maxRequestBodyBytes must be a non-negative integer, got ${maxRequestBodyBytes}`);
  const strippedRequestHeaders = strippedHeaderSet(options.strippedRequestHeaders ?? DEFAULT_STRIPPED_REQUEST_HEADERS);
  if (options.adminToken !== undefined && options.adminToken.length < 8) throw new TypeError('edge: adminToken must be at least 8 characters');
  if (options.metricsToken !== undefined && options.metricsToken.length < 16) throw new TypeError('edge: metricsToken must be at least 16 characters');

  const tier = options.tier ?? 'edge';
  const shieldUrls = options.shieldUrls ?? [];
  if (tier === 'shield' && shieldUrls.length > 0) throw new TypeError('edge: a shield fills from origins; it takes no shieldUrls');
  if (options.siblingHashing && (options.peerSecret === undefined || options.consul === undefined)) throw new TypeError('edge: siblingHashing needs consul (to find the region\'s edges) and peerSecret');
  if (options.siblingHashing && tier === 'shield') throw new TypeError('edge: siblingHashing is for edges; shields always hash among themselves');
  const place = options.place ?? { region: 'local', lat: 0, lon: 0 };
  const peerHops = options.peerSecret === undefined ? undefined : createPeerHopAuth(options.peerSecret);

  const limits = viewerLimits(options.connections, 'edge');

  const logger = options.logger;
  const state: EdgeState = { draining: false };
  const store = createMemoryStore<StoredResponse>({
    maxBytes: options.cacheBytes,
    // One stored value may hold every variant of a URL (variants.ts), each up to maxObjectBytes.
    maxEntryBytes: Math.min(options.cacheBytes, MAX_VARIANTS * (options.maxObjectBytes + 64 * 1024)),
    sizeOf: (stored) => storedSize(stored, entrySize),
    onEvict: () => metrics.evictions.inc(),
  });
  const flights = new FlightTable<FillHead, UpstreamInterim>({
    waitTimeoutMs: options.coalesceWaitMs ?? 15_000,
    onListenerError: (error, key) => logger.error({ key, err: (error as Error).stack ?? String(error) }, 'a viewer’s response failed; dropped from the shared fetch'),
  });
  const originTimeoutMs = options.originTimeoutMs ?? 10_000;
  const held = createHeldRequests({ holdWaitMs: options.holdWaitMs ?? DEFAULT_HOLD_WAIT_MS, maxWaiters: options.maxHeldRequests ?? DEFAULT_MAX_HELD_REQUESTS });
  const prefetchIndex = createPrefetchIndex(options.prefetchIndexSegments ?? 50_000);
  const metrics = createEdgeMetrics({
    cacheBytes: () => store.bytes,
    cacheObjects: () => store.count,
    cacheCapacityBytes: options.cacheBytes,
    inflightFlights: () => flights.size,
    heldFlights: () => held.flights,
    heldWaiters: () => held.waiters,
    prefetchIndexPlaylists: () => prefetchIndex.playlists,
    prefetchIndexSegments: () => prefetchIndex.segments,
    originReplicas: () => origins.replicas.length,
    originsEjected: () => origins.ejected.length,
    openConnections: () => guard.open,
    originInFlight: () => origins.inFlight,
    originQueued: () => origins.queued,
    ignoredOrigins: () => source.ignoredCounts(),
    shields: () => shields?.replicas.length ?? 0,
    peers: () => peers?.size ?? 0,
  });
  const origins = createUpstreamClient({
    hedgeDelayMs: options.hedgeDelayMs ?? 300,
    connectTimeoutMs: options.connectTimeoutMs ?? 2_000,
    headersTimeoutMs: originTimeoutMs,
    bodyTimeoutMs: originTimeoutMs,
    connectionsPerReplica: options.originMaxPerReplica ?? 64,
    maxInFlight: options.originMaxInFlight ?? 256,
    maxQueued: options.originMaxQueued ?? 1024,
    queueWaitMs: options.originQueueWaitMs ?? 4_000,
    retryAfterSeconds: 1,
    deadlineMs: options.originDeadlineMs ?? 60_000,
    ejectAfterFailures: 3,
    ejectForMs: options.originEjectMs ?? 10_000,
    maxEjectForMs: options.originMaxEjectMs ?? 160_000,
    userAgent: `streamedge-edge/${options.id}`,
    ca: options.originCa,
    observer: metrics.originObserver,
  });
  const originDeadlineMs = options.originDeadlineMs ?? 60_000;
  // A shield (or peer) answering a miss waits on its own origins, with their failover: allow for that.
  const tierTimeouts = {
    connectTimeoutMs: options.connectTimeoutMs ?? 2_000,
    headersTimeoutMs: originTimeoutMs * 2,
    bodyTimeoutMs: originTimeoutMs,
    deadlineMs: originDeadlineMs,
  };
  const shields: UpstreamClient | undefined =
    tier === 'edge' && (shieldUrls.length > 0 || options.consul !== undefined)
      ? createUpstreamClient({
          // One shield per key keeps one copy per region; a slow shield is usually a slow origin, which the shield hedges itself.
          hedgeDelayMs: 0,
          ...tierTimeouts,
          connectionsPerReplica: options.originMaxPerReplica ?? 64,
          maxInFlight: options.originMaxInFlight ?? 256,
          maxQueued: options.originMaxQueued ?? 1024,
          queueWaitMs: options.originQueueWaitMs ?? 5_000,
          retryAfterSeconds: 1,
          ejectAfterFailures: 2,
          ejectForMs: 5_000,
          maxEjectForMs: 80_000,
          balanceFactor: SHIELD_BALANCE_FACTOR,
          trustsUpstreamFault: true,
          userAgent: `streamedge-edge/${options.id}`,
          observer: metrics.tierReplicaObserver,
        })
      : undefined;
  const peers: PeerDirectory | undefined =
    peerHops && options.consul && (tier === 'shield' || options.siblingHashing)
      ? createPeerDirectory({ selfId: options.id, auth: peerHops, ...tierTimeouts, connectionsPerPeer: options.originMaxPerReplica ?? 64, observer: metrics.tierReplicaObserver })
      : undefined;

  // A fetch under way for a purged key would store it again when it lands: its flight is purged too.
  const purgeLocal = (request: PurgeRequest): number => {
    if ('key' in request) {
      flights.purgeMatching((key) => key === request.key);
      return store.delete(request.key) ? 1 : 0;
    }
    flights.purgeMatching((key) => key.startsWith(request.prefix));
    return store.deleteByPrefix(request.prefix);
  };

  const services: EdgeServices = {
    id: options.id,
    tier,
    cacheName: `streamedge-${options.id}`,
    commonHeaders: ['x-served-by', options.id, 'access-control-allow-origin', '*', 'access-control-expose-headers', EXPOSED_HEADERS],
    cacheKey: createCacheKeyFunction({ allowedQueryParams: options.allowedQueryParams ?? [] }),
    store,
    flights,
    origins,
    shields,
    peerFor: (key) => peers?.peerFor(key),
    peerHops,
    tierObserver: {
      onTier: metrics.tierObserver.onTier,
      onBytes: metrics.tierObserver.onBytes,
      onFallback(tierName, key, reason, message) {
        metrics.tierObserver.onFallback?.(tierName, key, reason);
        logger.warn({ key, tier: tierName, reason, err: message }, 'upstream tier failed; trying the next');
      },
    },
    metrics,
    logger,
    maxObjectBytes: options.maxObjectBytes,
    maxRequestBodyBytes,
    negativeTtl: negativeTtlMs / 1000,
    // A sibling's marker is for the owner worker that reads it, never for the origin.
    strippedRequestHeaders: new Set([...strippedRequestHeaders, SIBLING_HEADER, PEER_HOP_HEADER]),
    prefetchCount,
    prefetchIndex,
    held,
    newKeyRate: createNewKeyRate({ perSecond: options.newKeysPerSecond ?? 1000, burst: 2 * (options.newKeysPerSecond ?? 1000) }),
    adminToken: options.adminToken,
    metricsToken: options.metricsToken,
    urlTokens: options.urlTokens,
    siblingRequestsAccepted: false,
    state,
    hasOrigins: () => origins.replicas.length > 0,
    purge: options.purgeAll ?? ((request) => Promise.resolve(purgeLocal(request))),
    siblingFor: options.siblingFor ?? (() => undefined),
    metricsText:
      options.metricsText ??
      (async () => ({ contentType: metrics.registry.contentType, body: await metrics.registry.metrics() })),
  };

  const handler = (serving: EdgeServices) => (req: IncomingMessage, res: ServerResponse): void => void handleRequest(serving, req, res);
  /** How a raw answer goes out: over plain HTTP/1.1 after the responses still owed (raw-replies.ts). */
  type SendRaw = (socket: Socket, text: string) => void;
  const endSocket: SendRaw = (socket, text) => void socket.end(text);
  const onClientError = (send: SendRaw) => (error: NodeJS.ErrnoException, socket: Socket): void => {
    // Malformed requests (bad request line, oversized headers) get a short answer, never a crash.
    if (!socket.writable) return void socket.destroy();
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    send(socket, `HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\nx-served-by: ${options.id}\r\n\r\n`);
  };
  // CONNECT never reaches the request phases (node:http hands it over as a tunnel, the http2
  // compatibility layer as a request and response): the edge opens no tunnels.
  const connectBody = 'method CONNECT not allowed\n';
  const connectHeaders = ['allow', ALLOWED_METHODS, 'content-type', 'text/plain; charset=utf-8', 'content-length', String(connectBody.length), 'x-served-by', options.id];
  const onConnect = (send: SendRaw) => (req: IncomingMessage, socketOrResponse: Socket | ServerResponse): void => {
    if (req.httpVersionMajor === 2) return void (socketOrResponse as ServerResponse).writeHead(405, connectHeaders).end(connectBody);
    send(socketOrResponse as Socket, `HTTP/1.1 405 Method Not Allowed\r\nconnection: close\r\n${connectHeaders.map((value, i) => (i % 2 === 0 ? `${value}: ` : `${value}\r\n`)).join('')}\r\n${connectBody}`);
  };
  const newServer = (serving: EdgeServices): Server => {
    const created = createServer({ maxHeaderSize: MAX_HEADER_BYTES, ...viewerServerOptions(limits) }, handler(serving));
    answerHalfClosedClients(created);
    // Raw answers wait for the responses still owed on a pipelined connection (raw-replies.ts).
    const rawReplies = trackRawReplies(created);
    created.on('clientError', onClientError(rawReplies.send));
    created.on('connect', onConnect(rawReplies.send));
    return created;
  };
  /**
   * Over TLS: HTTP/2 for viewers whose ALPN offers it, HTTP/1.1 otherwise. The request phases run
   * unchanged on node:http2's compatibility request and response (flat header arrays, 1xx, drain
   * and destroy behave alike); HTTP/1.1 connections get node:http's own objects and timeouts.
   */
  const newSecureServer = (serving: EdgeServices, credentials: Pick<ServerCredentials, 'cert' | 'key'>): Http2SecureServer => {
    const serverOptions = viewerServerOptions(limits);
    const created = createSecureServer(
      {
        allowHTTP1: true,
        cert: credentials.cert,
        key: credentials.key,
        maxSessionMemory: 32,
        // The handshake is part of the request head's time budget.
        handshakeTimeout: limits.headersTimeoutMs,
        settings: { maxConcurrentStreams: 128, maxHeaderListSize: MAX_HEADER_BYTES },
      },
      handler(serving) as unknown as Parameters<typeof createSecureServer>[1],
    );
    // node:http's HTTP/1.1 handling reads its timeouts from the server object.
    Object.assign(created, { headersTimeout: serverOptions.headersTimeout, requestTimeout: serverOptions.requestTimeout, keepAliveTimeout: serverOptions.keepAliveTimeout, connectionsCheckingInterval: serverOptions.connectionsCheckingInterval, maxHeaderSize: MAX_HEADER_BYTES });
    // An HTTP/2 session idle for the keep-alive timeout is closed, as an HTTP/1.1 connection is.
    created.setTimeout(limits.keepAliveTimeoutMs);
    created.on('clientError', onClientError(endSocket));
    created.on('connect', onConnect(endSocket));
    return created;
  };
  const server = options.tls ? newSecureServer(services, options.tls) : newServer(services);
  const guard = createViewerConnectionGuard(limits, metrics.connectionObserver);
  const readyEvent = options.tls ? 'secureConnection' : 'connection';
  if (options.tls) capTlsHandshakes(server, limits, metrics.connectionObserver);
  const serveHttp = takeConnectionHandler(server, readyEvent);
  // Viewers' HTTP/1.1 connections start on the hit fast path; sibling workers only ask for misses.
  const fastPath: HitFastPath | undefined =
    options.fastHits === false
      ? undefined
      : createHitFastPath({ services, maxHeadBytes: MAX_HEADER_BYTES, keepAliveTimeoutMs: limits.keepAliveTimeoutMs, headersTimeoutMs: limits.headersTimeoutMs, handOver: serveHttp });
  server.on(readyEvent, (socket: Socket) => {
    if (!guard.admit(socket)) return;
    if (fastPath && (socket as TLSSocket).alpnProtocol !== 'h2') fastPath.accept(socket);
    else serveHttp(socket);
  });
  let privateServer: Server | undefined;

  const source: OriginSource = hasStatic
    ? startStaticOriginSource(options.originUrls!, (replicas) => origins.setReplicas(replicas))
    : startConsulOriginSource(options.consul!, logger, options.originAllow ?? [], (replicas) => origins.setReplicas(replicas));
  if (shields && shieldUrls.length > 0) shields.setReplicas(staticShieldReplicas(shieldUrls));
  const shieldSource = shields && shieldUrls.length === 0 ? startConsulShieldSource(options.consul!, place, logger, options.originAllow ?? [], (replicas) => shields.setReplicas(replicas)) : undefined;
  // Shields hash keys among every shield; edges with sibling hashing among their region's edges.
  const peerWatch: ServiceWatch | undefined = peers
    ? watchService({
        consul: options.consul!,
        service: tier === 'shield' ? SHIELD_SERVICE : EDGE_SERVICE,
        logger,
        onChange: (instances) => {
          const members = instances.filter((instance) => tier === 'shield' || instance.meta.region === place.region).flatMap((instance) => registeredReplica(instance) ?? []);
          logger.info({ peers: members.map((member) => `${member.id}=${member.url}`) }, 'peers changed');
          peers.update(members);
        },
      })
    : undefined;

  return {
    server,
    services,
    metrics,
    origins,
    originsReady: source.ready,
    async listen(port, host) {
      const address = await listen(server, port, host);
      const shownHost = address.address.includes(':') ? `[${address.address}]` : address.address;
      return `${options.tls ? 'https' : 'http'}://${shownHost}:${address.port}`;
    },
    async listenPrivate(host) {
      // Sibling workers ask with the cache key, after the viewer's token was checked where it arrived.
      // Only sibling workers reach this loopback port, so their marker is believed here alone.
      privateServer ??= newServer({ ...services, urlTokens: undefined, siblingRequestsAccepted: true });
      // exclusive: a port of this worker alone, not one shared through the cluster primary.
      await new Promise<void>((resolve, reject) => {
        privateServer!.once('error', reject);
        privateServer!.listen({ port: 0, host, exclusive: true }, () => resolve());
      });
      const { port } = privateServer.address() as { port: number };
      return `http://${host}:${port}`;
    },
    purgeLocal,
    setDraining(draining) {
      state.draining = draining;
    },
    async close(graceMs) {
      state.draining = true;
      const cut = setTimeout(() => fastPath?.destroyAll(), graceMs);
      cut.unref();
      const closed = Promise.all([closeGracefully(server, graceMs), privateServer ? closeGracefully(privateServer, graceMs) : undefined]);
      fastPath?.closeAll();
      await closed;
      clearTimeout(cut);
      guard.stop();
      source.stop();
      shieldSource?.stop();
      peerWatch?.stop();
      await Promise.all([origins.close(), shields?.close(), peers?.close()]);
    },
  };
}
