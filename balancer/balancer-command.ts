import type { Server as HttpsServer } from 'node:https';
import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { METRICS_TOKEN_FILE_OPTION, readBearerTokenFile } from '../infra/auth/bearer-token.js';
import { TOKEN_SECRET_FILE_OPTION, tokenVerifierFromFiles } from '../infra/auth/token-key-files.js';
import { CONSUL_ACCESS_OPTIONS, consulConnectionFrom } from '../infra/consul/consul-connection.js';
import { allowListFromFlag } from '../infra/consul/registration-screen.js';
import { VIEWER_CONNECTION_OPTIONS, viewerLimitsFromFlags } from '../infra/http/viewer-connections.js';
import { reloadOnHangup, serverCredentialsFrom, TLS_SERVER_OPTIONS, TLS_TRUST_OPTION, trustedCaFrom } from '../infra/tls/tls-credentials.js';
import { parseCommandOptions, OptionError } from '../infra/runtime/command-options.js';
import { startClusterPrimary } from '../infra/runtime/cluster-primary.js';
import { closeGracefully, listen, waitForShutdownSignal } from '../infra/runtime/http-lifecycle.js';
import { createLogger, type Logger } from '../infra/runtime/logger.js';
import { sendToWorker } from '../infra/runtime/worker-messages.js';
import { answerClusterReports, clusterReportsFromPrimary, offerWorkerReports } from './balancer-cluster.js';
import { BALANCER_DEFAULTS, createBalancer } from './balancer-wiring.js';
import { checkPrometheus } from './dashboard/prometheus-series.js';
import { createConsulDiscovery, createStaticDiscovery, DEFAULT_CONSUL_WAIT_MS, parseStaticEdges, type EdgeDiscovery } from './discovery/edge-discovery.js';
import { watchShields } from './discovery/shield-watch.js';
import type { FrontName } from './fronts/front.js';
import { parseIpPrefix } from '../infra/net/ip-prefix-table.js';
import { EMPTY_LOCATION_TABLE, loadLocationTable } from './location/location-table.js';

const SUMMARY = `Steers each viewer to the nearest healthy edge (Consul-aware), by HLS content steering,
302 redirect or reverse proxy.

Edges come from Consul (service streamedge-edge, meta region/lat/lon/url[/weight]) or from
--edge specs: URL;id=ID;region=REGION;lat=LAT;lon=LON[;weight=W], e.g.
  --edge 'http://127.0.0.1:8081;id=edge-1;region=us-east;lat=39.04;lon=-77.49'

--locations FILE maps viewer IP prefixes to places (JSON):
  {"regions": {"us-east": {"lat": 39.04, "lon": -77.49}},            (optional)
   "prefixes": [{"cidr": "127.0.1.0/24", "region": "us-east"},
                {"cidr": "2001:db8::/32", "region": "eu-west", "lat": 53.35, "lon": -6.26}]}
The longest matching prefix wins; a viewer may also name its region with ?region=NAME or the
X-Streamedge-Region header (unless --disable-region-hints).

Endpoints: /vod|live/… (the chosen front), /steering/<kind>/<asset> (steering manifest),
/catalog.json, / and /assets/* (player), /dashboard (operations dashboard) and
/dashboard/samples (its data: Prometheus's recording rules with --prometheus, else each edge's
/metrics), /status (JSON, HTML by Accept) and /status.html, /metrics, /healthz, /readyz.`;

const SPECS = {
  port: { kind: 'port', description: 'port to listen on (0 = any free port)', default: 8080 },
  host: { kind: 'string', description: 'address to bind', default: '127.0.0.1' },
  id: { kind: 'string', description: 'name of this balancer in logs', default: 'balancer' },
  consul: { kind: 'url', description: 'Consul HTTP address to discover edges from' },
  // Consul caps a blocking query's wait at 10 minutes.
  'consul-wait': { kind: 'duration', min: 1000, max: 600_000, description: `longest wait of each Consul blocking query for an edge change: a hung agent shows as unreachable after this plus a tenth, and as reachable again within about two of it once it answers (default: ${DEFAULT_CONSUL_WAIT_MS / 1000} s)` },
  'edge-allow': { kind: 'string', multiple: true, description: 'CIDR (IPv4 or IPv6) an edge (or shield, for /status and the dashboard) discovered in Consul must register its address and url host in; others are ignored (default: any address, meta still required)' },
  ...CONSUL_ACCESS_OPTIONS,
  ...TOKEN_SECRET_FILE_OPTION,
  ...METRICS_TOKEN_FILE_OPTION,
  ...TLS_SERVER_OPTIONS,
  ...TLS_TRUST_OPTION,
  edge: { kind: 'string', multiple: true, description: 'static edge URL;id=..;region=..;lat=..;lon=..[;weight=..] (instead of --consul)' },
  mode: { kind: 'string', choices: ['steering', 'redirect', 'proxy'], default: 'steering', description: 'how viewers reach the edge' },
  locations: { kind: 'string', description: 'JSON file mapping viewer IP prefixes to regions and coordinates' },
  'balance-factor': { kind: 'number', min: 1, max: 10, default: BALANCER_DEFAULTS.balanceFactor, description: 'bounded load: no edge above ceil(C × average) active sessions' },
  'trust-proxy': { kind: 'string', multiple: true, description: 'CIDR of a proxy whose X-Forwarded-For is believed' },
  'disable-region-hints': { kind: 'boolean', description: 'refuse ?region= and X-Streamedge-Region hints (400)' },
  'player-dir': { kind: 'string', description: 'directory with the built player (index.html, assets/); default: dist/player-web under the package' },
  'session-ttl': { kind: 'duration', min: 1000, default: BALANCER_DEFAULTS.sessionTtlMs, description: 'a viewer not seen for this long no longer counts as an active session' },
  'max-sessions': { kind: 'integer', min: 1, max: 10_000_000, default: BALANCER_DEFAULTS.maxSessions, description: 'active sessions remembered at most' },
  'steering-ttl': { kind: 'duration', min: 1000, max: 3_600_000, default: BALANCER_DEFAULTS.steeringTtlSeconds * 1000, description: 'steering manifest TTL (how often players ask again)' },
  'eject-backoff': { kind: 'duration', min: 100, default: BALANCER_DEFAULTS.ejectBackoffMs, description: 'how long an edge that failed a connection stays out before a probe' },
  'eject-max-backoff': { kind: 'duration', min: 100, default: BALANCER_DEFAULTS.ejectMaxBackoffMs, description: 'longest back-off after repeated failed probes' },
  'connect-timeout': { kind: 'duration', min: 50, default: BALANCER_DEFAULTS.connectTimeoutMs, description: 'connecting to an edge longer than this ejects it' },
  'response-timeout': { kind: 'duration', min: 100, default: BALANCER_DEFAULTS.responseTimeoutMs, description: 'no response headers from an edge within this: its /healthz is asked, and only a failing one ejects it' },
  'edge-wait': { kind: 'duration', min: 100, default: BALANCER_DEFAULTS.edgeWaitMs, description: 'longest wait for headers from an edge that passes its /healthz (waiting on a slow origin); then 504, the edge not blamed' },
  'max-attempts': { kind: 'integer', min: 1, max: 10, default: BALANCER_DEFAULTS.maxAttempts, description: 'edges tried per request before giving up' },
  'slow-throughput': { kind: 'integer', min: 0, default: BALANCER_DEFAULTS.slowThroughputBps, description: 'a pathway a player reports below this many bits/s may be demoted for it (0 = never)…' },
  'slow-ratio': { kind: 'number', min: 0.01, max: 1, default: BALANCER_DEFAULTS.slowRatio, description: '…when that is below this fraction of what it recently got on another pathway' },
  'probe-interval': { kind: 'duration', default: BALANCER_DEFAULTS.probeIntervalMs, description: 'probe every available edge\'s /healthz this often, in ms (0 = only when a connection drops)' },
  workers: { kind: 'integer', min: 1, max: 64, default: 1, description: 'redirect/proxy: worker processes (node:cluster), each routing on its own view of sessions and health (/metrics and /status add them up); 1 serves in-process' },
  prometheus: { kind: 'url', description: 'Prometheus whose recording rules the /dashboard plots (checked at start-up); default: the edges\' own /metrics' },
  ...VIEWER_CONNECTION_OPTIONS,
  'max-pathways': { kind: 'integer', min: 1, max: 20, default: BALANCER_DEFAULTS.maxPathways, description: 'content-steering pathways (edges) per master playlist' },
} as const;

const PACKAGE_PLAYER_DIR = fileURLToPath(new URL('../../dist/player-web', import.meta.url));

export async function main(argv: readonly string[]): Promise<void> {
  const options = parseCommandOptions('balancer', SUMMARY, SPECS, argv);
  if (options.consul && options.edge.length > 0) throw new OptionError('--edge', 'give either --consul or --edge, not both');
  if (!options.consul && options.edge.length === 0) throw new OptionError('--consul', 'required unless edges are given with --edge');
  const consul = consulConnectionFrom(options);
  if (options['consul-wait'] !== undefined && !consul) throw new OptionError('--consul-wait', 'is for edges discovered in Consul: give it with --consul');
  if (options['edge-allow'].length > 0 && !consul) throw new OptionError('--edge-allow', 'screens edges discovered in Consul: give it with --consul');
  const edgeAllow = allowListFromFlag('--edge-allow', options['edge-allow']);
  if (options['eject-max-backoff'] < options['eject-backoff']) throw new OptionError('--eject-max-backoff', 'must be at least --eject-backoff');
  if (options['edge-wait'] < options['response-timeout']) throw new OptionError('--edge-wait', `must be at least --response-timeout (${options['response-timeout']} ms)`);
  // A steering session lives in the process that wrote its master playlist; its reloads must come back there.
  if (options.workers > 1 && options.mode === 'steering') throw new OptionError('--workers', 'steering mode keeps viewer sessions in one process: use --workers 1');
  let staticEdges;
  try {
    staticEdges = parseStaticEdges(options.edge);
  } catch (error) {
    throw new OptionError('--edge', (error as Error).message);
  }
  const trustedProxies = options['trust-proxy'].map((cidr) => {
    try {
      return parseIpPrefix(cidr);
    } catch (error) {
      throw new OptionError('--trust-proxy', (error as Error).message);
    }
  });
  let locations = EMPTY_LOCATION_TABLE;
  if (options.locations) {
    try {
      locations = await loadLocationTable(options.locations);
    } catch (error) {
      throw new OptionError('--locations', (error as Error).message);
    }
  }

  const tls = serverCredentialsFrom(options);
  const edgeCa = trustedCaFrom(options);
  const scheme = tls ? 'https' : 'http';
  const urlTokens = tokenVerifierFromFiles(options['token-secret-file']);
  const metricsToken = readBearerTokenFile('--metrics-token-file', options['metrics-token-file']);
  const log = createLogger('balancer', options.id);
  if (options.prometheus && cluster.isPrimary) {
    try {
      const version = await checkPrometheus(options.prometheus, options['response-timeout']);
      log.info({ prometheus: options.prometheus, version }, 'dashboard reads Prometheus');
    } catch (error) {
      throw new OptionError('--prometheus', (error as Error).name === 'TimeoutError' ? `no answer within ${options['response-timeout']} ms` : (error as Error).message);
    }
  }
  if (options.workers > 1 && cluster.isPrimary) {
    await runPrimary(options.workers, options.host, scheme, log, describe(options.mode, options.consul, staticEdges.length, locations.prefixCount));
    return;
  }
  const balancer = createBalancer({
    mode: options.mode as FrontName,
    logger: log,
    locations,
    trustedProxies,
    hintsEnabled: !options['disable-region-hints'],
    balanceFactor: options['balance-factor'],
    playerDir: options['player-dir'] ?? PACKAGE_PLAYER_DIR,
    sessionTtlMs: options['session-ttl'],
    maxSessions: options['max-sessions'],
    steeringTtlSeconds: Math.round(options['steering-ttl'] / 1000),
    ejectBackoffMs: options['eject-backoff'],
    ejectMaxBackoffMs: options['eject-max-backoff'],
    connectTimeoutMs: options['connect-timeout'],
    responseTimeoutMs: options['response-timeout'],
    edgeWaitMs: options['edge-wait'],
    maxAttempts: options['max-attempts'],
    slowThroughputBps: options['slow-throughput'],
    slowRatio: options['slow-ratio'],
    maxPathways: options['max-pathways'],
    probeIntervalMs: options['probe-interval'],
    urlTokens,
    cluster: cluster.isWorker ? clusterReportsFromPrimary : undefined,
    prometheusUrl: options.prometheus,
    connections: viewerLimitsFromFlags(options),
    metricsToken,
    tls,
    edgeCa,
  });
  reloadOnHangup(tls ? [balancer.server as HttpsServer] : [], tls, log);
  if (cluster.isWorker) offerWorkerReports(balancer);

  const discovery: EdgeDiscovery = consul
    ? createConsulDiscovery({ consul, logger: log, allow: edgeAllow, waitMs: options['consul-wait'], onSnapshot: (snapshot) => balancer.setSnapshot(snapshot) })
    : createStaticDiscovery(staticEdges, (snapshot) => balancer.setSnapshot(snapshot));
  balancer.setDiscoveryStatus(() => discovery.status());
  const shieldWatch = consul ? watchShields(consul, log, edgeAllow) : undefined;
  if (shieldWatch) balancer.setShields(shieldWatch.shields);

  const address = await listen(balancer.server, options.port, options.host);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const description = describe(options.mode, options.consul, staticEdges.length, locations.prefixCount);
  // With workers the primary announces the shared port once, when every worker listens.
  if (cluster.isPrimary) log.info({ url: `${scheme}://${host}:${address.port}`, ...description }, 'listening');

  const reason = cluster.isPrimary ? await waitForShutdownSignal() : await primaryShutdown();
  if (cluster.isPrimary) log.info({ signal: reason }, 'shutting down');
  discovery.stop();
  shieldWatch?.stop();
  await closeGracefully(balancer.server, 5_000);
  await balancer.close();
  if (cluster.isPrimary) log.info('stopped');
  else process.exit(0);
}

function describe(mode: string, consul: string | undefined, staticEdges: number, locations: number): Record<string, unknown> {
  return { mode, discovery: consul ? `consul ${consul}` : `${staticEdges} static edges`, locations };
}

const SHUTDOWN_MESSAGE = 'streamedge:balancer-shutdown';

/** A worker stops when its primary says so or disappears; signals are the primary's to handle. */
function primaryShutdown(): Promise<string> {
  process.on('SIGTERM', () => {});
  process.on('SIGINT', () => {});
  return new Promise((resolve) => {
    process.on('message', (message) => {
      if (message === SHUTDOWN_MESSAGE) resolve('primary');
    });
    process.once('disconnect', () => resolve('primary gone'));
  });
}

/**
 * node:cluster primary: the workers share one listening socket (the kernel hands each connection
 * to one of them) and each runs a whole balancer; cluster-primary.ts keeps them running.
 * The primary answers workers' asks for cluster-wide /metrics and /status.
 */
async function runPrimary(workers: number, host: string, scheme: 'http' | 'https', log: Logger, description: Record<string, unknown>): Promise<void> {
  answerClusterReports();
  // Each worker reads --tls-cert and --tls-key again itself: the primary only passes SIGHUP on.
  const primary = startClusterPrimary({ workers, name: 'balancer', logger: log, forwardSignals: ['SIGHUP'] });
  const port = await primary.listening;
  log.info({ url: `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`, workers, ...description }, 'listening');
  const signal = await waitForShutdownSignal();
  log.info({ signal }, 'shutting down');
  await primary.stopWorkers((alive) => alive.forEach((worker) => sendToWorker(worker, SHUTDOWN_MESSAGE)), 10_000);
  log.info('stopped');
}
