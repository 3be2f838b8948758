import { Agent } from 'undici';
import { classifyConnectionError } from '../health/connection-error.js';
import type { EdgeNode } from '../discovery/edge-node.js';
import type { Front, FrontOutcome, FrontRequest } from './front.js';
import { sendError } from '../http-responses.js';
import type { IpPrefix } from '../../infra/net/ip-prefix-table.js';
import type { PassiveHealth } from '../health/passive-health.js';
import { ProxyAttempt } from './proxy-attempt.js';
import { requestHeadersForEdge } from './proxy-headers.js';
import { UPSTREAM_FAULT_HEADER } from '../../infra/http/upstream-fault.js';
import { validateEdgeWaitOptions, watchEdgeWait, type EdgeWaitEnd } from '../health/edge-wait.js';
import { blameForStatus, type BlameRecorder } from '../health/blame.js';

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
 * failure before the edge sends headers ejects that edge and, for GET and HEAD without a body,
 * retries the next candidate; so does a slow answer when the edge then fails its /healthz
 * (edge-wait.ts). An edge that passes it is waiting on its origin: it is waited for, up to the
 * longest wait, and never blamed. Once headers are out the response is the edge's, and a body cut
 * short is cut short for the viewer too.
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
    connect: { timeout: options.connectTimeoutMs },
    // Only a backstop: the edge wait ends first (waited too long, or the edge failed its probe).
    headersTimeout: options.maxWaitMs + options.responseTimeoutMs,
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
        let waitEnd: EdgeWaitEnd | undefined;
        const attempt = new ProxyAttempt(res, (status, edgeHeaders) => {
          wait.stop();
          const blame = blameForStatus(status, edgeHeaders);
          if (blame) options.blame?.(blame.party, blame.reason);
          // A 5xx of the edge's own: its /healthz decides whether it stays in.
          if (blame?.party === 'edge') options.health.suspect(edge);
        });
        const wait = watchEdgeWait(options, edge, (end) => {
          waitEnd = end;
          attempt.abort(new Error(end === 'edge-down' ? `edge ${edge.id} failed its health probe` : `edge ${edge.id} sent no headers within ${options.maxWaitMs} ms`));
        });
        agent.dispatch({ origin, path: `${prefix}${path}`, method, headers, body: hasBody ? req : null }, attempt);
        const ending = await attempt.ended;
        wait.stop();
        if (ending.kind === 'done') return 'proxied';
        if (ending.kind === 'client-closed') return 'client-closed';
        if (ending.kind === 'cut-short') {
          // A body cut short may be the origin's doing: the edge's /healthz decides whether it is out.
          options.health.suspect(edge);
          log.warn({ edge: edge.id, err: ending.error.message }, 'proxied response cut short');
          res.destroy();
          return 'upstream-error';
        }
        if (waitEnd === 'waited-too-long') {
          // The edge kept passing its probe: its origin is slow, and another edge would wait on it too.
          options.blame?.('upstream', 'edge-wait');
          log.warn({ edge: edge.id, waitedMs: options.maxWaitMs }, 'edge alive but no headers in the longest wait; origin slow');
          sendError(res, 504, `edge ${edge.id} is waiting on its origin for ${target.path}`, { [UPSTREAM_FAULT_HEADER]: 'edge-wait' });
          return 'upstream-error';
        }
        // Before any byte: a refused or reset connection is the edge's own; a failed probe ejected it already.
        const reason = waitEnd === 'edge-down' ? options.health.health(edge.id).reason : classifyConnectionError(ending.error);
        if (reason && waitEnd === undefined) options.health.eject(edge, reason);
        if (reason) options.blame?.('edge', reason);
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
