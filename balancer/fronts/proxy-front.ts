import { Agent } from 'undici';
import { clientTrust } from '../../infra/tls/tls-credentials.js';
import type { Front, FrontOutcome, FrontRequest } from './front.js';
import { sendError } from '../http-responses.js';
import type { IpPrefix } from '../../infra/net/ip-prefix-table.js';
import type { PassiveHealth } from '../health/passive-health.js';
import { ProxyAttempt } from './proxy-attempt.js';
import { requestHeadersForEdge } from './proxy-headers.js';
import { validateEdgeWaitOptions } from '../health/edge-wait.js';
import type { BlameRecorder } from '../health/blame.js';
import { edgeTarget } from './edge-target.js';
import { proxyWithRetries } from './proxy-retries.js';
import { createEdgeConnectionPool } from './edge-connection-pool.js';
import { createProxyFastPath, type ProxyFastPath, type ProxyFastPathOptions } from './proxy-fast-path.js';

export interface ProxyFrontOptions {
  readonly health: PassiveHealth;
  readonly trustedProxies: readonly IpPrefix[];
  /** Connecting to an edge for longer than this counts as a failed attempt. */
  readonly connectTimeoutMs: number;
  /** No response headers from the edge within this time: its /healthz decides whether it is at fault. No body bytes for this long ends the response. */
  readonly responseTimeoutMs: number;
  /** The longest wait for headers from an edge that keeps passing its /healthz (its origin is slow). */
  readonly maxWaitMs: number;
  readonly maxAttempts: number;
  readonly blame?: BlameRecorder;
  /** Kept-alive connections to one edge, at most (per process). */
  readonly maxConnectionsPerEdge: number;
  /** Extra CA (PEM) trusted for https edges, beside the system roots. */
  readonly edgeCa?: string | undefined;
}

/** Connections to edges and requests waiting for one, for /metrics. */
export interface ProxyUpstreamStats {
  readonly open: number;
  readonly queued: number;
  /** Bytes of the raw connections' read buffers. */
  readonly readBufferBytes: number;
}

export interface ProxyFront extends Front {
  upstreamStats(): ProxyUpstreamStats;
  /** The raw-socket path for plain GETs, sharing this front's options and its own edge connections. */
  fastPath(options: Omit<ProxyFastPathOptions, keyof ProxyFrontOptions | 'pool'>): ProxyFastPath;
}

const RETRYABLE_METHODS = new Set(['GET', 'HEAD']);
/** An idle connection to an edge is closed after this, before the edge's own keep-alive timeout. */
const EDGE_KEEP_ALIVE_MS = 4_000;
/** Read buffers of a worker's connections to edges grow to this much, together (16 KiB each beyond it). */
const READ_BUFFER_BUDGET_BYTES = 32 * 1024 * 1024;

/**
 * Streams the edge's response through the balancer over one undici pool per edge, with the retry
 * and blame rules of proxy-retries.ts (GET and HEAD without a body may go on to the next edge).
 */
export function createProxyFront(options: ProxyFrontOptions): ProxyFront {
  for (const name of ['connectTimeoutMs', 'responseTimeoutMs', 'maxAttempts', 'maxConnectionsPerEdge'] as const) {
    if (!Number.isInteger(options[name]) || options[name] < 1) throw new TypeError(`createProxyFront: ${name} must be an integer ≥ 1, got ${options[name]}`);
  }
  validateEdgeWaitOptions(options);
  // Pooled, kept-alive connections with undici's HTTP/1.1 client: per proxied playlist it costs
  // a fraction of http-proxy over node:http's ClientRequest (measured in the commit that made this).
  const agent = new Agent({
    connections: options.maxConnectionsPerEdge,
    // https edges: the system roots and --tls-ca; certificates are always verified.
    connect: { timeout: options.connectTimeoutMs, ...clientTrust(options.edgeCa) },
    // Only a backstop: the edge wait ends first (waited too long, or the edge failed its probe).
    headersTimeout: options.maxWaitMs + options.responseTimeoutMs,
    bodyTimeout: options.responseTimeoutMs,
    keepAliveTimeout: EDGE_KEEP_ALIVE_MS,
  });
  const pool = createEdgeConnectionPool({
    maxConnectionsPerEdge: options.maxConnectionsPerEdge,
    connectTimeoutMs: options.connectTimeoutMs,
    idleTimeoutMs: EDGE_KEEP_ALIVE_MS,
    readBufferBudgetBytes: READ_BUFFER_BUDGET_BYTES,
  });

  return {
    name: 'proxy',
    handle({ req, res, target, router, log }: FrontRequest): Promise<FrontOutcome> {
      const headers = requestHeadersForEdge(req, options.trustedProxies);
      const path = `${target.path}${target.query ? `?${target.query}` : ''}`;
      const method = req.method ?? 'GET';
      // A request body can be read once: such a request gets one edge, not a retry.
      const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
      return proxyWithRetries(options, {
        route: router.route(req, target.assetKey),
        router,
        log,
        path: target.path,
        retryable: RETRYABLE_METHODS.has(method) && !hasBody,
        start(edge, onEdgeHeaders) {
          const { origin, prefix } = edgeTarget(edge);
          const attempt = new ProxyAttempt(res, onEdgeHeaders);
          agent.dispatch({ origin, path: `${prefix}${path}`, method, headers, body: hasBody ? req : null }, attempt);
          return attempt;
        },
        sendError: (status, reason, extra) => sendError(res, status, reason, extra),
        cut: () => res.destroy(),
      });
    },
    fastPath: (fastOptions) => createProxyFastPath({ ...options, ...fastOptions, pool }),
    upstreamStats() {
      const pooled = pool.stats;
      let { open, queued } = pooled;
      for (const stats of Object.values(agent.stats)) {
        open += Number(stats.connected);
        queued += stats.size - stats.running;
      }
      return { open, queued, readBufferBytes: pooled.readBufferBytes };
    },
    async close() {
      pool.close();
      await agent.destroy();
    },
  };
}
