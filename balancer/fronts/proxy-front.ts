import { Agent } from 'undici';
import { classifyConnectionError } from '../health/connection-error.js';
import type { EdgeNode } from '../discovery/edge-node.js';
import type { Front, FrontOutcome, FrontRequest } from './front.js';
import { sendError } from '../http-responses.js';
import type { IpPrefix } from '../location/ip-prefix-table.js';
import type { PassiveHealth } from '../health/passive-health.js';
import { ProxyAttempt } from './proxy-attempt.js';
import { requestHeadersForEdge } from './proxy-headers.js';

export interface ProxyFrontOptions {
  readonly health: PassiveHealth;
  readonly trustedProxies: readonly IpPrefix[];
  /** Connecting to an edge for longer than this counts as a failed attempt. */
  readonly connectTimeoutMs: number;
  /** No response headers from the edge within this time (or no body bytes for this long) counts as a failed attempt. */
  readonly responseTimeoutMs: number;
  readonly maxAttempts: number;
  /** Kept-alive connections to one edge, at most (per process). */
  readonly maxConnectionsPerEdge: number;
}

/** Connections to edges and requests waiting for one, for /metrics. */
export interface ProxyUpstreamStats {
  readonly open: number;
  readonly queued: number;
}

export interface ProxyFront extends Front {
  upstreamStats(): ProxyUpstreamStats;
}

const RETRYABLE_METHODS = new Set(['GET', 'HEAD']);

/** An edge's origin and path prefix, worked out once per snapshot's EdgeNode rather than per request. */
const edgeTargets = new WeakMap<EdgeNode, { readonly origin: string; readonly prefix: string }>();
function edgeTarget(edge: EdgeNode): { readonly origin: string; readonly prefix: string } {
  let target = edgeTargets.get(edge);
  if (!target) {
    const url = new URL(edge.url);
    target = { origin: url.origin, prefix: url.pathname.replace(/\/+$/, '') };
    edgeTargets.set(edge, target);
  }
  return target;
}

/**
 * Streams the edge's response through the balancer over one undici pool per edge. A connection
 * failure or a timeout before the edge sends headers ejects that edge and, for GET and HEAD
 * without a body, retries the next candidate; once headers are out the response is the edge's,
 * and a body cut short is cut short for the viewer too.
 */
export function createProxyFront(options: ProxyFrontOptions): ProxyFront {
  for (const name of ['connectTimeoutMs', 'responseTimeoutMs', 'maxAttempts', 'maxConnectionsPerEdge'] as const) {
    if (!Number.isInteger(options[name]) || options[name] < 1) throw new TypeError(`createProxyFront: ${name} must be an integer ≥ 1, got ${options[name]}`);
  }
  // Pooled, kept-alive connections with undici's HTTP/1.1 client: per proxied playlist it costs
  // a fraction of http-proxy over node:http's ClientRequest (measured in the commit that made this).
  const agent = new Agent({
    connections: options.maxConnectionsPerEdge,
    connect: { timeout: options.connectTimeoutMs },
    headersTimeout: options.responseTimeoutMs,
    bodyTimeout: options.responseTimeoutMs,
    keepAliveTimeout: 4_000,
  });

  return {
    name: 'proxy',
    async handle({ req, res, target, router, log }: FrontRequest): Promise<FrontOutcome> {
      const route = router.route(req, target.assetKey);
      if (route.candidates.length === 0) {
        sendError(res, 503, 'no healthy edge available', { 'retry-after': '2' });
        return 'no-edge';
      }
      const headers = requestHeadersForEdge(req, options.trustedProxies);
      const path = `${target.path}${target.query ? `?${target.query}` : ''}`;
      const method = req.method ?? 'GET';
      // A request body can be read once: such a request gets one edge, not a retry.
      const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
      const tries = RETRYABLE_METHODS.has(method) && !hasBody ? options.maxAttempts : 1;
      const failures: string[] = [];
      for (const edge of route.candidates.slice(0, tries)) {
        if (!options.health.isAvailable(edge.id)) continue;
        router.commit(route, edge);
        const { origin, prefix } = edgeTarget(edge);
        const attempt = new ProxyAttempt(res);
        agent.dispatch({ origin, path: `${prefix}${path}`, method, headers, body: hasBody ? req : null }, attempt);
        const ending = await attempt.ended;
        if (ending.kind === 'done') return 'proxied';
        if (ending.kind === 'client-closed') return 'client-closed';
        if (ending.kind === 'cut-short') {
          // The edge answered, so it is up: a body it cuts short (its origin truncated one, say)
          // ends this response only. A dead edge is ejected by the next request or probe.
          log.warn({ edge: edge.id, err: ending.error.message }, 'proxied response cut short');
          res.destroy();
          return 'upstream-error';
        }
        const reason = classifyConnectionError(ending.error);
        if (reason) options.health.eject(edge, reason);
        log.warn({ edge: edge.id, err: ending.error.message, reason }, 'proxy attempt failed');
        failures.push(`${edge.id}: ${reason ?? ending.error.message}`);
      }
      sendError(res, 502, `no edge could serve ${target.path} (${failures.join('; ')})`);
      return 'upstream-error';
    },
    upstreamStats() {
      let open = 0;
      let queued = 0;
      for (const stats of Object.values(agent.stats)) {
        open += Number(stats.connected);
        queued += stats.size - stats.running;
      }
      return { open, queued };
    },
    async close() {
      await agent.destroy();
    },
  };
}
