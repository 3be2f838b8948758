// `streamedge edge`: options, then one process (--workers 1) or a node:cluster primary with workers.
// The serving process (or the primary) owns Consul registration and the drain sequence:
// maintenance on → drain delay → stop accepting → finish in-flight → deregister → exit.
import type { Http2SecureServer } from 'node:http2';
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { AggregatorRegistry } from 'prom-client';
import { METRICS_TOKEN_FILE_OPTION, readBearerTokenFile } from '../infra/auth/bearer-token.js';
import { TOKEN_SECRET_FILE_OPTION, tokenVerifierFromFiles } from '../infra/auth/token-key-files.js';
import { CONSUL_ACCESS_OPTIONS, consulConnectionFrom, type ConsulConnection } from '../infra/consul/consul-connection.js';
import { allowListFromFlag } from '../infra/consul/registration-screen.js';
import { checkedAddress, createServiceRegistration, requireAdvertisedUrl, type ServiceRegistration } from '../infra/consul/service-registration.js';
import { startClusterPrimary } from '../infra/runtime/cluster-primary.js';
import { VIEWER_CONNECTION_OPTIONS, viewerLimitsFromFlags } from '../infra/http/viewer-connections.js';
import { reloadOnHangup, serverCredentialsFrom, TLS_SERVER_OPTIONS, TLS_TRUST_OPTION, trustedCaFrom, type ServerCredentials } from '../infra/tls/tls-credentials.js';
import { OptionError, parseCommandOptions, type ParsedOptions } from '../infra/runtime/command-options.js';
import { waitForShutdownSignal } from '../infra/runtime/http-lifecycle.js';
import { createLogger, type Logger } from '../infra/runtime/logger.js';
import { connectWorker, servePrimary } from './cluster-bridge.js';
import { createEdge, type Edge, type EdgeOptions } from './edge-server.js';
import type { EdgeTier } from './pipeline/edge-services.js';
import { createSiblingDirectory } from './sibling-workers.js';
import { strippedHeaderSet } from './upstream/forwarded-request.js';
import { PEER_SECRET_FILE_OPTION, readPeerSecretFile } from './upstream/peer-hop.js';
import { EDGE_SERVICE, SHIELD_SERVICE } from './upstream/shield-source.js';


const SUMMARY = 'edge cache: serves HLS playlists and segments from memory, fetching misses from origin replicas';

const specs = {
  port: { kind: 'port', description: 'port to listen on (0 picks a free one)', default: 8081 },
  host: { kind: 'string', description: 'address to bind', default: '127.0.0.1' },
  origin: { kind: 'url', multiple: true, description: 'origin replica base URL (static list; else discovered in Consul)' },
  tier: { kind: 'string', description: 'edge: serves viewers (registers as streamedge-edge); shield: serves a region\'s edges, never viewers (registers as streamedge-shield)', default: 'edge', choices: ['edge', 'shield'] },
  shield: { kind: 'url', multiple: true, description: 'shield base URL an edge fills misses from before the origins (static list; else discovered in Consul)' },
  'sibling-hashing': { kind: 'boolean', description: 'edges of this region hash keys to an owner edge and ask it before the shields (needs --consul and --sibling-secret-file)' },
  ...PEER_SECRET_FILE_OPTION,
  ...TLS_SERVER_OPTIONS,
  ...TLS_TRUST_OPTION,
  consul: { kind: 'url', description: 'Consul agent HTTP address: registration, and origin discovery without --origin' },
  'origin-allow': { kind: 'string', multiple: true, description: 'CIDR (IPv4 or IPv6) an origin discovered in Consul must register its address and url host in; others are ignored (default: any address, meta url still required)' },
  ...CONSUL_ACCESS_OPTIONS,
  'cache-size': { kind: 'bytes', description: 'memory cache size per process, e.g. 256MB', default: '256MB', min: 1024 * 1024 },
  'max-object-size': { kind: 'bytes', description: 'largest object cached; bigger ones stream through', default: '32MB', min: 1024 },
  id: { kind: 'string', description: 'edge id (Consul service ID, X-Served-By, Cache-Status)', default: 'edge-1' },
  region: { kind: 'string', description: 'region name in Consul meta', default: 'local' },
  lat: { kind: 'number', description: 'latitude in Consul meta', default: 0, min: -90, max: 90 },
  lon: { kind: 'number', description: 'longitude in Consul meta', default: 0, min: -180, max: 180 },
  url: { kind: 'url', description: 'public base URL viewers use (Consul meta; default: the listening URL)' },
  workers: { kind: 'integer', description: 'worker processes (node:cluster); 1 serves in-process', default: availableParallelism(), min: 1, max: 64 },
  'hedge-delay': { kind: 'duration', description: 'ask a second origin replica if the first has not answered by then (0 = off)', default: '300ms' },
  'origin-timeout': { kind: 'duration', description: 'origin response-header and body-idle timeout', default: '10s', min: 100 },
  'origin-deadline': { kind: 'duration', description: 'total time for one origin fetch, body included; a slower one is cut and not cached', default: '60s', min: 100 },
  'origin-max-per-replica': { kind: 'integer', description: 'origin requests in flight per origin replica (its connections)', default: 64, min: 1, max: 10_000 },
  'origin-max-inflight': { kind: 'integer', description: 'origin requests in flight across all replicas, per process', default: 256, min: 1, max: 100_000 },
  'origin-max-queued': { kind: 'integer', description: 'origin requests waiting for a slot; beyond it viewers get 503 + Retry-After (0 = no waiting)', default: 1024, min: 0, max: 1_000_000 },
  'origin-queue-wait': { kind: 'duration', description: 'longest wait for an origin slot before 503 + Retry-After (keep it below the balancer --response-timeout: this refusal then comes first)', default: '4s', min: 1 },
  'hold-wait': { kind: 'duration', description: 'longest upstream wait for a Low-Latency HLS request the origin holds on purpose (a blocking playlist reload, a part not yet written): never hedged, no replica blamed (above the origin\'s 3 target durations, below the balancer --edge-wait)', default: '7s', min: 100, max: 60_000 },
  'max-held': { kind: 'integer', description: 'viewer requests waiting on held Low-Latency HLS fetches at once, per process; beyond it 503 + Retry-After', default: 10_000, min: 1, max: 1_000_000 },
  'new-keys-per-second': { kind: 'integer', description: 'objects with nothing cached fetched per second per process (burst twice that); beyond it 503 + Retry-After (0 = no limit)', default: 1000, min: 0, max: 1_000_000 },
  'negative-ttl': { kind: 'duration', description: 'how long a 404/410 without explicit freshness is cached (0 = not reused)', default: '2s', min: 0, max: 3_600_000 },
  'max-request-body': { kind: 'bytes', description: 'largest request body a POST, PUT, DELETE or PATCH streams to the origin; bigger ones get 413 (0 = none)', default: '1MB', min: 0 },
  'strip-request-header': { kind: 'string', multiple: true, description: 'viewer request header never forwarded to the origin; replaces the default list ("none" = forward them all)', default: ['cookie', 'authorization'] },
  prefetch: { kind: 'integer', description: 'segments to warm after each segment request (0 = off)', default: 2, min: 0, max: 20 },
  'prefetch-index-size': { kind: 'integer', description: 'segment URIs kept parsed from cached media playlists for prefetch, across playlists (least recently used out)', default: 50_000, min: 1, max: 10_000_000 },
  'admin-token': { kind: 'string', description: 'bearer token for POST /admin/purge (disabled without one)' },
  ...TOKEN_SECRET_FILE_OPTION,
  ...METRICS_TOKEN_FILE_OPTION,
  ...VIEWER_CONNECTION_OPTIONS,
  'disable-fast-hits': { kind: 'boolean', description: 'answer every request through node:http, without the hit fast path' },
  'cache-key-param': { kind: 'string', multiple: true, description: 'query parameter kept in the cache key (others are dropped)' },
  // Viewers leave a draining edge only at their next steering-manifest reload (balancer TTL 4 s),
  // after Consul has told the balancer (~1 s): 8 s covers two reloads, so no viewer hits a closed port.
  'drain-delay': {
    kind: 'duration',
    description: 'on SIGTERM, keep serving this long in Consul maintenance before closing (≥ 2 × the balancer steering TTL, so viewers have moved)',
    default: '8s',
  },
  'drain-timeout': { kind: 'duration', description: 'longest wait for in-flight responses when draining', default: '30s', min: 100 },
} as const;

type Options = ParsedOptions<typeof specs>;

/** The scheme viewers use: https with --tls-cert, where an http --url could not be reached. */
function checkedScheme(options: Options, tls: ServerCredentials | undefined): 'http' | 'https' {
  if (tls && options.url !== undefined && new URL(options.url).protocol !== 'https:') throw new OptionError('--url', `must be an https URL with --tls-cert; got ${options.url}`);
  return tls ? 'https' : 'http';
}

function edgeOptions(options: Options, logger: Logger, tls = serverCredentialsFrom(options)): Omit<EdgeOptions, 'purgeAll' | 'metricsText'> {
  checkedScheme(options, tls);
  if (options['max-object-size'] > options['cache-size']) {
    throw new OptionError('--max-object-size', `must not exceed --cache-size (${options['cache-size']} bytes)`);
  }
  if (options['admin-token'] !== undefined && options['admin-token'].length < 8) {
    throw new OptionError('--admin-token', 'must be at least 8 characters');
  }
  if (!/^[A-Za-z0-9._-]+$/.test(options.id)) throw new OptionError('--id', 'use letters, digits, dot, dash and underscore only');
  requireAdvertisedUrl(options, 'viewers use to reach this edge');
  try {
    strippedHeaderSet(options['strip-request-header'].filter((name) => name !== 'none'));
  } catch (error) {
    throw new OptionError('--strip-request-header', (error as Error).message);
  }
  if (options['origin-deadline'] <= options['origin-timeout']) {
    throw new OptionError('--origin-deadline', `must exceed --origin-timeout (${options['origin-timeout']} ms)`);
  }
  if (options['hold-wait'] >= options['origin-deadline']) {
    throw new OptionError('--hold-wait', `must be below --origin-deadline (${options['origin-deadline']} ms), which would cut a held fetch`);
  }
  if (options.origin.length === 0 && options.consul === undefined) {
    throw new OptionError('--origin', 'give at least one --origin URL, or --consul to discover origins');
  }
  if (options['origin-allow'].length > 0 && options.origin.length > 0) {
    throw new OptionError('--origin-allow', 'screens origins discovered in Consul: give it without --origin');
  }
  const originAllow = allowListFromFlag('--origin-allow', options['origin-allow']);
  const shield = options.tier === 'shield';
  if (shield && options.shield.length > 0) throw new OptionError('--shield', 'a shield fills its misses from origins; --shield is for edges');
  // A shield answers edges, which checked the viewer's token and send the cache key without it.
  if (shield && options['token-secret-file'].length > 0) throw new OptionError('--token-secret-file', 'edges check signed URLs; a shield serves edges only (keep it off the viewers\' network)');
  if (shield && options['sibling-hashing']) throw new OptionError('--sibling-hashing', 'is for edges; shields hash keys among themselves whenever --sibling-secret-file is given');
  const peerSecret = readPeerSecretFile(options['sibling-secret-file']);
  if (options['sibling-hashing'] && (peerSecret === undefined || options.consul === undefined)) {
    throw new OptionError('--sibling-hashing', 'needs --consul (to find the region\'s edges) and --sibling-secret-file');
  }
  return {
    id: options.id,
    logger,
    tier: options.tier as EdgeTier,
    place: { region: options.region, lat: options.lat, lon: options.lon },
    shieldUrls: options.shield,
    peerSecret,
    siblingHashing: options['sibling-hashing'],
    ...(options.origin.length > 0 ? { originUrls: options.origin } : { consul: consulConnectionFrom(options)!, originAllow }),
    cacheBytes: options['cache-size'],
    maxObjectBytes: options['max-object-size'],
    allowedQueryParams: options['cache-key-param'],
    hedgeDelayMs: options['hedge-delay'],
    originTimeoutMs: options['origin-timeout'],
    originDeadlineMs: options['origin-deadline'],
    originMaxPerReplica: options['origin-max-per-replica'],
    originMaxInFlight: options['origin-max-inflight'],
    originMaxQueued: options['origin-max-queued'],
    originQueueWaitMs: options['origin-queue-wait'],
    newKeysPerSecond: options['new-keys-per-second'],
    holdWaitMs: options['hold-wait'],
    maxHeldRequests: options['max-held'],
    negativeTtlMs: options['negative-ttl'],
    maxRequestBodyBytes: options['max-request-body'],
    strippedRequestHeaders: options['strip-request-header'].filter((name) => name !== 'none'),
    prefetchCount: options.prefetch,
    prefetchIndexSegments: options['prefetch-index-size'],
    fastHits: !options['disable-fast-hits'],
    connections: viewerLimitsFromFlags(options),
    ...(options['admin-token'] !== undefined ? { adminToken: options['admin-token'] } : {}),
    urlTokens: tokenVerifierFromFiles(options['token-secret-file']),
    metricsToken: readBearerTokenFile('--metrics-token-file', options['metrics-token-file']),
    tls,
    originCa: trustedCaFrom(options),
  };
}

/** Registers in Consul in the background (retrying while the agent is unreachable). */
function register(options: Options, port: number, publicUrl: string, logger: Logger): ServiceRegistration | undefined {
  const url = new URL(publicUrl);
  const consul: ConsulConnection | undefined = consulConnectionFrom(options);
  if (consul === undefined) return undefined;
  const registration = createServiceRegistration({
    consul,
    // A service of its own, so the balancer (watching streamedge-edge) never sends viewers to a shield.
    name: options.tier === 'shield' ? SHIELD_SERVICE : EDGE_SERVICE,
    id: options.id,
    address: checkedAddress(options.host),
    port,
    meta: { region: options.region, lat: String(options.lat), lon: String(options.lon), url: publicUrl, ...(options.tier === 'shield' ? { tier: 'shield' } : {}) },
    checkPath: '/healthz',
    // Over TLS the agent verifies the certificate against the name viewers use.
    ...(url.protocol === 'https:' ? { checkTlsServerName: url.hostname.replace(/^\[|\]$/g, '') } : {}),
    checkInterval: '2s',
    checkTimeout: '1s',
    deregisterCriticalAfter: '1m',
    logger,
  });
  const attempt = (): void => {
    registration.start().catch((error: Error) => {
      logger.warn({ err: error.message }, 'Consul registration failed; retrying');
      setTimeout(attempt, 2000).unref();
    });
  };
  attempt();
  return registration;
}

async function drainStep(logger: Logger, step: string, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    logger.warn({ err: (error as Error).message, step }, 'drain step failed; continuing');
  }
}

/** SIGHUP re-reads --tls-cert and --tls-key for this process's viewer server (and never ends it). */
function reloadTls(edge: Edge, tls: ServerCredentials | undefined, logger: Logger): void {
  reloadOnHangup(tls ? [edge.server as Http2SecureServer] : [], tls, logger);
}

async function runInProcess(options: Options, logger: Logger): Promise<void> {
  const tls = serverCredentialsFrom(options);
  const edge = createEdge(edgeOptions(options, logger, tls));
  reloadTls(edge, tls, logger);
  const url = await edge.listen(options.port, options.host);
  const port = Number(new URL(url).port);
  const publicUrl = options.url ?? url;
  logger.info({ url, publicUrl, origins: options.origin.length > 0 ? options.origin : `consul:${options.consul}`, workers: 1 }, 'listening');
  const registration = register(options, port, publicUrl, logger);
  const signal = await waitForShutdownSignal();
  logger.info({ signal }, 'draining');
  edge.setDraining(true);
  if (registration) await drainStep(logger, 'maintenance', () => registration.setMaintenance(true, 'draining'));
  await sleep(options['drain-delay']);
  await edge.close(options['drain-timeout']);
  if (registration) await drainStep(logger, 'deregister', () => registration.deregister());
  logger.info('stopped');
}

async function runWorker(options: Options, logger: Logger): Promise<void> {
  let shutdown: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (shutdown = resolve));
  const selfId = String(cluster.worker!.id);
  // The bridge's handlers run only after the edge below exists.
  const bridge = connectWorker({
    purgeLocal: (request) => edge.purgeLocal(request),
    onDraining: () => edge.setDraining(true),
    onShutdown: () => shutdown(),
    onSiblings: (siblings) => directory.update(siblings),
  });
  const tls = serverCredentialsFrom(options);
  const edge = createEdge({
    ...edgeOptions(options, logger, tls),
    purgeAll: bridge.purgeAll,
    metricsText: bridge.metricsText,
    siblingFor: (key) => directory.siblingFor(key),
  });
  reloadTls(edge, tls, logger);
  const directory = createSiblingDirectory(selfId, options['origin-timeout'], edge.metrics.originObserver);
  // Constructing an AggregatorRegistry installs prom-client's worker-side answer to the primary.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([edge.metrics.registry]);
  // Signals go to the primary, which runs the drain; a worker only stops when told to.
  process.on('SIGTERM', () => {});
  process.on('SIGINT', () => {});
  process.on('disconnect', () => shutdown());
  try {
    await edge.listen(options.port, options.host);
    bridge.announceSibling({ id: selfId, url: await edge.listenPrivate('127.0.0.1') });
  } catch (error) {
    // The IPC channel would keep a failed worker alive; exit so the primary sees it.
    logger.error({ err: (error as Error).message }, 'edge worker could not listen');
    process.exit(1);
  }
  await stopped;
  await edge.close(options['drain-timeout']);
  await directory.close();
  process.exit(0);
}

/**
 * glibc raises its mmap threshold after large frees, so bodies evicted from the cache come back
 * from a fragmenting heap instead of their own mappings; a fixed threshold keeps RSS near the
 * cache size under miss churn (measured: 380 → 361 MB RSS for a 256 MB cache).
 */
function workerEnv(): NodeJS.ProcessEnv {
  return { MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? '131072' };
}

/**
 * Workers accept connections themselves from the shared socket. node:cluster's default on Linux
 * (round-robin) has the primary accept every connection and hand it to a worker over IPC: a burst
 * of new viewers (a cold herd, or the viewers of a failed edge arriving at once) queues behind
 * that one process. Measured with a 500-viewer herd and 2 workers: requests reached the workers
 * over 1.1–1.3 s with round-robin, 0.24–0.7 s accepting directly. NODE_CLUSTER_SCHED_POLICY=rr
 * restores round-robin (more even spreading of connections over workers).
 */
function acceptInWorkers(): void {
  if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined) cluster.schedulingPolicy = cluster.SCHED_NONE;
}

async function runPrimary(options: Options, logger: Logger): Promise<void> {
  const tls = serverCredentialsFrom(options);
  edgeOptions(options, logger, tls); // validate once, before forking
  acceptInWorkers();
  const bridge = servePrimary();
  // Each worker reads the files again itself: the primary only passes SIGHUP on.
  const primary = startClusterPrimary({ workers: options.workers, name: 'edge', logger, env: workerEnv(), forwardSignals: ['SIGHUP'] });
  const port = await primary.listening;
  // Workers bind the viewer port before their sibling port: until each knows the others, a cold
  // object would be fetched once per worker, so the edge is not announced before that.
  await bridge.siblingsKnown(options.workers);
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `${checkedScheme(options, tls)}://${shownHost}:${port}`;
  const publicUrl = options.url ?? url;
  logger.info({ url, publicUrl, workers: options.workers }, 'listening');
  const registration = register(options, port, publicUrl, logger);
  const signal = await waitForShutdownSignal();
  logger.info({ signal }, 'draining');
  primary.stopReplacing();
  bridge.broadcast('streamedge:draining');
  if (registration) await drainStep(logger, 'maintenance', () => registration.setMaintenance(true, 'draining'));
  await sleep(options['drain-delay']);
  await primary.stopWorkers(() => bridge.broadcast('streamedge:shutdown'), options['drain-timeout'] + 5000);
  if (registration) await drainStep(logger, 'deregister', () => registration.deregister());
  logger.info('stopped');
}

export async function main(argv: readonly string[]): Promise<void> {
  const options = parseCommandOptions('edge', SUMMARY, specs, argv);
  const logger = createLogger('edge', options.id);
  if (options.workers === 1) await runInProcess(options, logger);
  else if (cluster.isPrimary) await runPrimary(options, logger);
  else await runWorker(options, logger);
  // Nothing should be left, but a lingering keep-alive socket must not hold the exit hostage.
  setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
}
