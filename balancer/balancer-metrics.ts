import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ConnectionRejectReason, ViewerConnectionObserver } from '../infra/http/viewer-connections.js';
import type { EdgeHealthState, EjectionReason } from './health/passive-health.js';
import type { BlamedParty } from './health/blame.js';
import type { FrontName, FrontOutcome } from './fronts/front.js';
import type { ProxyUpstreamStats } from './fronts/proxy-front.js';

export interface BalancerMetricsSource {
  /** Seconds since discovery last confirmed the edge list. */
  snapshotAgeSeconds(): number;
  consulReachable(): boolean;
  edges(): readonly { id: string; state: EdgeHealthState; sessions: number }[];
  /** Viewer connections open in this process. */
  openConnections(): number;
  /** Edge registrations in Consul ignored at the last change, by reason. */
  ignoredEdges(): Readonly<Record<string, number>>;
  /** Proxy mode: connections to edges, and proxied requests waiting for one (zero in other modes). */
  proxyUpstream(): ProxyUpstreamStats;
}

export interface BalancerMetrics {
  readonly registry: Registry;
  request(front: FrontName | 'status' | 'catalog' | 'player' | 'dashboard', outcome: FrontOutcome | string): void;
  selected(edgeId: string): void;
  ejected(edgeId: string, reason: EjectionReason): void;
  /** A failed or slow edge answer, by the party it is blamed on (health/blame.ts). */
  blamed(party: BlamedParty, reason: string): void;
  /** Viewer connections refused at accept, and cut for not reading. */
  readonly connectionObserver: ViewerConnectionObserver;
}

/**
 * One registry per balancer (not prom-client's global), so tests can run several in one process.
 * With --workers the primary aggregates every worker's registry: counters and session gauges add
 * up; each worker's own view of discovery and health does not, so those gauges keep the worst.
 */
export function createBalancerMetrics(source: BalancerMetricsSource): BalancerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'streamedge_balancer_' });
  // Every proxied request bumps these two: plain numbers, which prom-client reads at scrape time
  // (a labelled increment hashes its labels on every call), as the edge's hit counters are.
  const requestCounts = new Map<string, Map<string, number>>();
  const selectionCounts = new Map<string, number>();
  new Counter({
    name: 'streamedge_balancer_requests_total',
    help: 'Requests handled, by front and outcome',
    labelNames: ['front', 'outcome'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [front, outcomes] of requestCounts) for (const [outcome, count] of outcomes) this.labels(front, outcome).inc(count);
    },
  });
  new Counter({
    name: 'streamedge_balancer_selected_total',
    help: 'Viewers sent to each edge',
    labelNames: ['edge'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [edge, count] of selectionCounts) this.labels(edge).inc(count);
    },
  });
  const ejections = new Counter({
    name: 'streamedge_balancer_ejections_total',
    help: 'Edges ejected by passive health, by reason',
    labelNames: ['edge', 'reason'] as const,
    registers: [registry],
  });
  const blames = new Counter({
    name: 'streamedge_balancer_blamed_total',
    help: 'Failed or slow edge answers by who is blamed: edge (counts against its health) or upstream (its origin; the edge stays in), and why',
    labelNames: ['party', 'reason'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'streamedge_balancer_ignored_edges',
    help: 'streamedge-edge registrations in Consul ignored (bad meta, or outside --edge-allow), by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
    aggregator: 'max',
    collect() {
      for (const [reason, count] of Object.entries(source.ignoredEdges())) this.set({ reason }, count);
    },
  });
  new Gauge({
    name: 'streamedge_balancer_snapshot_age_seconds',
    help: 'Seconds since discovery last confirmed the edge list (the oldest over workers)',
    registers: [registry],
    aggregator: 'max',
    collect() {
      this.set(source.snapshotAgeSeconds());
    },
  });
  new Gauge({
    name: 'streamedge_balancer_consul_reachable',
    help: '1 while Consul answers, 0 while the balancer (any worker) serves from its last snapshot',
    registers: [registry],
    aggregator: 'min',
    collect() {
      this.set(source.consulReachable() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'streamedge_balancer_edge_up',
    help: '1 for an edge in the snapshot and not ejected, 0 while ejected or probing (by any worker)',
    labelNames: ['edge'] as const,
    registers: [registry],
    aggregator: 'min',
    collect() {
      this.reset();
      for (const edge of source.edges()) this.set({ edge: edge.id }, edge.state === 'healthy' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'streamedge_balancer_active_sessions',
    help: 'Active viewer sessions per edge (what bounded-load hashing balances)',
    labelNames: ['edge'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const edge of source.edges()) this.set({ edge: edge.id }, edge.sessions);
    },
  });
  new Gauge({
    name: 'streamedge_balancer_open_connections',
    help: 'Viewer connections open (summed over workers)',
    registers: [registry],
    collect() {
      this.set(source.openConnections());
    },
  });
  new Gauge({
    name: 'streamedge_balancer_proxy_edge_connections',
    help: 'Proxy mode: kept-alive connections to edges (at most 512 per edge per worker; summed over workers)',
    registers: [registry],
    collect() {
      this.set(source.proxyUpstream().open);
    },
  });
  new Gauge({
    name: 'streamedge_balancer_proxy_read_buffer_bytes',
    help: 'Proxy mode: read buffers of the raw connections to edges (each 16 KiB, growing to 256 KiB within 32 MiB per worker; summed over workers)',
    registers: [registry],
    collect() {
      this.set(source.proxyUpstream().readBufferBytes);
    },
  });
  new Gauge({
    name: 'streamedge_balancer_proxy_queued_requests',
    help: 'Proxy mode: proxied requests waiting for a connection to their edge (summed over workers)',
    registers: [registry],
    collect() {
      this.set(source.proxyUpstream().queued);
    },
  });
  const rejectedConnections = new Counter({
    name: 'streamedge_balancer_rejected_connections_total',
    help: 'Viewer connections refused at accept (503), by limit',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const writeTimeouts = new Counter({
    name: 'streamedge_balancer_write_timeouts_total',
    help: 'Viewer connections cut after a response made no progress for the write timeout',
    registers: [registry],
  });
  return {
    registry,
    connectionObserver: {
      onReject: (reason: ConnectionRejectReason) => rejectedConnections.inc({ reason }),
      onWriteTimeout: () => writeTimeouts.inc(),
    },
    request(front, outcome) {
      let outcomes = requestCounts.get(front);
      if (!outcomes) requestCounts.set(front, (outcomes = new Map()));
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    },
    selected(edge) {
      selectionCounts.set(edge, (selectionCounts.get(edge) ?? 0) + 1);
    },
    ejected: (edge, reason) => ejections.inc({ edge, reason }),
    blamed: (party, reason) => blames.inc({ party, reason }),
  };
}
