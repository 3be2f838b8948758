import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CACHE_STATUSES, type CacheStatus } from './cache/cache-status.js';
import type { ConnectionRejectReason, ViewerConnectionObserver } from '../infra/http/viewer-connections.js';
import type { AttemptOutcome, EjectionReason, UpstreamObserver } from './upstream/upstream-client.js';
import type { TierObserver } from './upstream/tiered-fetch.js';

export interface EdgeMetrics {
  readonly registry: Registry;
  /** Per cache status: count one response and its body bytes. Children are pre-bound (hit path). */
  response(status: CacheStatus, bytes: number): void;
  /** One plain hit answered on the hit fast path (also counted by response()). */
  fastPathHit(): void;
  readonly staleServed: Counter<'kind'>;
  readonly coalescedWaiters: Counter;
  readonly flightOutcomes: Counter<'outcome'>;
  readonly integrityFailures: Counter<'reason'>;
  /** Fills fetched again after a body failed its ETag check, by the tier that sent it. */
  readonly integrityRefetches: Counter<'tier'>;
  readonly evictions: Counter;
  /** Partial responses (RFC 9111 §3.3–3.4) kept, by what storing them did (partial-content.ts PartialStored). */
  readonly partialStores: Counter<'result'>;
  readonly prefetches: Counter<'result'>;
  readonly purged: Counter;
  readonly badRequests: Counter<'reason'>;
  /** Origin fetches the edge refused itself (viewer got 503 + Retry-After), by reason. */
  readonly originRejected: Counter<'reason'>;
  readonly originObserver: UpstreamObserver;
  /** Attempts against shields and peers (sibling edges, other shields), by replica and outcome. */
  readonly tierReplicaObserver: UpstreamObserver;
  /** Fetches per upstream tier (worker, sibling, shield, origin) and fallbacks between them. */
  readonly tierObserver: TierObserver;
  /** Peer hop headers believed or refused. */
  readonly peerHops: Counter<'result'>;
  /** Viewer connections refused at accept, and cut for not reading. */
  readonly connectionObserver: ViewerConnectionObserver;
}

export interface EdgeMetricsSources {
  readonly cacheBytes: () => number;
  readonly cacheObjects: () => number;
  readonly cacheCapacityBytes: number;
  readonly inflightFlights: () => number;
  readonly heldFlights: () => number;
  readonly heldWaiters: () => number;
  readonly prefetchIndexPlaylists: () => number;
  readonly prefetchIndexSegments: () => number;
  readonly originReplicas: () => number;
  readonly originsEjected: () => number;
  readonly openConnections: () => number;
  readonly originInFlight: () => number;
  readonly originQueued: () => number;
  /** Origin registrations in Consul ignored at the last change, by reason. */
  readonly ignoredOrigins: () => Readonly<Record<string, number>>;
  readonly shields: () => number;
  readonly peers: () => number;
}

/** Seconds to upstream response headers: from a sibling worker's few ms to an origin's timeout. */
const UPSTREAM_RESPONSE_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createEdgeMetrics(sources: EdgeMetricsSources): EdgeMetrics {
  const registry = new Registry();
  // Process figures (resident memory, V8 heap, open fds, event-loop delay, GC), as the balancer and
  // origin give them: what a soak or an operator watches for leaks and stalls.
  collectDefaultMetrics({ register: registry, prefix: 'streamedge_edge_' });
  const registers = [registry];
  // The hit path only bumps plain numbers; prom-client reads them at scrape time (labelled
  // increments hash their labels on every call).
  const responseCounts = new Map<CacheStatus, number>(CACHE_STATUSES.map((status) => [status, 0]));
  const byteCounts = new Map<CacheStatus, number>(CACHE_STATUSES.map((status) => [status, 0]));
  const fromCounts = (counter: Counter<'cache_status'>, counts: Map<CacheStatus, number>): void => {
    counter.reset();
    for (const [status, value] of counts) counter.labels(status).inc(value);
  };
  new Counter({
    name: 'streamedge_edge_responses_total', help: 'Responses by cache status', labelNames: ['cache_status'], registers,
    collect() { fromCounts(this, responseCounts); },
  });
  let fastPathHits = 0;
  new Counter({
    name: 'streamedge_edge_fast_path_hits_total', help: 'Plain hits answered straight from the socket, without node:http', registers,
    collect() {
      this.reset();
      this.inc(fastPathHits);
    },
  });
  new Counter({
    name: 'streamedge_edge_response_bytes_total', help: 'Body bytes sent by cache status', labelNames: ['cache_status'], registers,
    collect() { fromCounts(this, byteCounts); },
  });
  const originRequests = new Counter({ name: 'streamedge_edge_origin_requests_total', help: 'Origin request attempts by replica and outcome', labelNames: ['replica', 'outcome'], registers });
  const originLatency = new Histogram({
    name: 'streamedge_edge_origin_response_seconds',
    help: 'Time from origin request to response headers (or failure)',
    labelNames: ['outcome'],
    buckets: UPSTREAM_RESPONSE_BUCKETS,
    registers,
  });
  const hedges = new Counter({ name: 'streamedge_edge_origin_hedges_total', help: 'Hedged requests sent to a second replica', labelNames: ['replica'], registers });
  const ejections = new Counter({ name: 'streamedge_edge_origin_ejections_total', help: 'Replicas ejected: after repeated failures, or for a body that failed its integrity check', labelNames: ['replica', 'reason'], registers });
  new Gauge({ name: 'streamedge_edge_cache_bytes', help: 'Bytes held by the cache', registers, collect() { this.set(sources.cacheBytes()); } });
  new Gauge({ name: 'streamedge_edge_cache_objects', help: 'Objects held by the cache', registers, collect() { this.set(sources.cacheObjects()); } });
  new Gauge({ name: 'streamedge_edge_cache_capacity_bytes', help: 'Configured cache size', registers, collect() { this.set(sources.cacheCapacityBytes); } });
  new Gauge({ name: 'streamedge_edge_inflight_fetches', help: 'Coalesced origin fetches under way', registers, collect() { this.set(sources.inflightFlights()); } });
  new Gauge({ name: 'streamedge_edge_held_fetches', help: 'Coalesced fetches the origin may hold on purpose (Low-Latency HLS blocking reloads and parts) under way', registers, collect() { this.set(sources.heldFlights()); } });
  new Gauge({ name: 'streamedge_edge_held_waiters', help: 'Viewer requests waiting on held fetches (bounded by --max-held)', registers, collect() { this.set(sources.heldWaiters()); } });
  new Gauge({ name: 'streamedge_edge_origin_inflight_requests', help: 'Origin requests sent and not yet read to the end', registers, collect() { this.set(sources.originInFlight()); } });
  new Gauge({ name: 'streamedge_edge_origin_queued_requests', help: 'Origin requests waiting for a free slot', registers, collect() { this.set(sources.originQueued()); } });
  const originRejected = new Counter({ name: 'streamedge_edge_origin_rejected_total', help: 'Origin requests refused a slot (viewer got 503 + Retry-After)', labelNames: ['reason'], registers });
  new Gauge({
    name: 'streamedge_edge_ignored_origins',
    help: 'streamedge-origin registrations in Consul ignored (no valid meta url, or outside --origin-allow), by reason',
    labelNames: ['reason'],
    registers,
    aggregator: 'max',
    collect() {
      for (const [reason, count] of Object.entries(sources.ignoredOrigins())) this.set({ reason }, count);
    },
  });
  new Gauge({ name: 'streamedge_edge_prefetch_index_playlists', help: 'Media playlists whose segment list the prefetch index holds', registers, collect() { this.set(sources.prefetchIndexPlaylists()); } });
  new Gauge({ name: 'streamedge_edge_prefetch_index_segments', help: 'Segment URIs held by the prefetch index (bounded by --prefetch-index-size)', registers, collect() { this.set(sources.prefetchIndexSegments()); } });
  new Gauge({ name: 'streamedge_edge_origin_replicas', help: 'Origin replicas known', registers, collect() { this.set(sources.originReplicas()); } });
  new Gauge({ name: 'streamedge_edge_origin_replicas_ejected', help: 'Origin replicas ejected now (tried only when no other is left)', registers, aggregator: 'max', collect() { this.set(sources.originsEjected()); } });
  new Gauge({ name: 'streamedge_edge_open_connections', help: 'Viewer connections open in this process', registers, collect() { this.set(sources.openConnections()); } });
  const rejectedConnections = new Counter({ name: 'streamedge_edge_rejected_connections_total', help: 'Viewer connections refused at accept (503), by limit', labelNames: ['reason'], registers });
  const writeTimeouts = new Counter({ name: 'streamedge_edge_write_timeouts_total', help: 'Viewer connections cut after a response made no progress for the write timeout', registers });

  const tierFetches = new Counter({ name: 'streamedge_edge_upstream_tier_fetches_total', help: 'Fill fetches by upstream tier (worker, sibling, shield, origin) and result', labelNames: ['tier', 'result'], registers });
  const tierLatency = new Histogram({
    name: 'streamedge_edge_upstream_tier_response_seconds',
    help: 'Time from a tier fetch to its response headers (or failure), by tier',
    labelNames: ['tier'],
    buckets: UPSTREAM_RESPONSE_BUCKETS,
    registers,
  });
  const tierBytes = new Counter({ name: 'streamedge_edge_upstream_tier_bytes_total', help: 'Body bytes fills read, by the upstream tier that answered their head', labelNames: ['tier'], registers });
  const fallbacks = new Counter({ name: 'streamedge_edge_upstream_fallbacks_total', help: 'Fetches a tier failed and passed to the next one, by tier and reason', labelNames: ['tier', 'reason'], registers });
  const tierRequests = new Counter({ name: 'streamedge_edge_tier_requests_total', help: 'Request attempts to shields and peers by replica and outcome', labelNames: ['replica', 'outcome'], registers });
  const tierEjections = new Counter({ name: 'streamedge_edge_tier_ejections_total', help: 'Shields and peers ejected: after failing, or for a body that failed its integrity check', labelNames: ['replica', 'reason'], registers });
  new Gauge({ name: 'streamedge_edge_peers', help: 'Other peers this node hashes keys among (every shield for a shield; the region\'s edges with --sibling-hashing)', registers, collect() { this.set(sources.peers()); } });
  new Gauge({ name: 'streamedge_edge_shields', help: 'Shields known (0 for a shield, or an edge without a shield tier)', registers, collect() { this.set(sources.shields()); } });

  return {
    registry,
    tierObserver: {
      onTier(tier, result, seconds) {
        tierFetches.labels(tier, result).inc();
        if (result === 'answered' || result === 'failed' || result === 'http-5xx') tierLatency.labels(tier).observe(seconds);
      },
      onFallback: (tier, _key, reason) => fallbacks.labels(tier, reason).inc(),
      onBytes: (tier, bytes) => tierBytes.labels(tier).inc(bytes),
    },
    tierReplicaObserver: {
      onAttempt: (replica: string, outcome: AttemptOutcome) => tierRequests.labels(replica, outcome).inc(),
      onEject: (replica: string, reason: EjectionReason) => tierEjections.labels(replica, reason).inc(),
      onReject: (reason: string) => originRejected.labels(reason).inc(),
    },
    peerHops: new Counter({ name: 'streamedge_edge_peer_hops_total', help: 'Peer hop headers received: believed (valid signature) or refused', labelNames: ['result'], registers }),
    fastPathHit() {
      fastPathHits++;
    },
    response(status, length) {
      responseCounts.set(status, responseCounts.get(status)! + 1);
      if (length > 0) byteCounts.set(status, byteCounts.get(status)! + length);
    },
    staleServed: new Counter({ name: 'streamedge_edge_stale_served_total', help: 'Stale responses served', labelNames: ['kind'], registers }),
    coalescedWaiters: new Counter({ name: 'streamedge_edge_coalesced_waiters_total', help: 'Requests that waited on another request’s origin fetch', registers }),
    flightOutcomes: new Counter({ name: 'streamedge_edge_fetch_outcomes_total', help: 'Coalesced origin fetches by outcome', labelNames: ['outcome'] as const, registers }),
    integrityFailures: new Counter({ name: 'streamedge_edge_integrity_failures_total', help: 'Origin bodies rejected (length or ETag mismatch, reset)', labelNames: ['reason'], registers }),
    integrityRefetches: new Counter({ name: 'streamedge_edge_integrity_refetches_total', help: 'Fills fetched again from the next replica after a body failed its ETag check, by the tier that sent it', labelNames: ['tier'], registers }),
    partialStores: new Counter({ name: 'streamedge_edge_partial_stores_total', help: 'Partial or incomplete responses kept (combined, replaced, completed into a whole object, refused)', labelNames: ['result'] as const, registers }),
    evictions: new Counter({ name: 'streamedge_edge_cache_evictions_total', help: 'Objects evicted to make room', registers }),
    prefetches: new Counter({ name: 'streamedge_edge_prefetches_total', help: 'Segment prefetches by result', labelNames: ['result'], registers }),
    purged: new Counter({ name: 'streamedge_edge_purged_objects_total', help: 'Objects removed by /admin/purge', registers }),
    originRejected,
    badRequests: new Counter({ name: 'streamedge_edge_rejected_requests_total', help: 'Requests rejected with a 4xx before reaching the cache', labelNames: ['reason'], registers }),
    originObserver: {
      onAttempt(replica: string, outcome: AttemptOutcome, seconds: number) {
        originRequests.labels(replica, outcome).inc();
        originLatency.labels(outcome).observe(seconds);
      },
      onHedge: (replica: string) => hedges.labels(replica).inc(),
      onEject: (replica: string, reason: EjectionReason) => ejections.labels(replica, reason).inc(),
      onReject: (reason: string) => originRejected.labels(reason).inc(),
    },
    connectionObserver: {
      onReject: (reason: ConnectionRejectReason) => rejectedConnections.labels(reason).inc(),
      onWriteTimeout: () => writeTimeouts.inc(),
    },
  };
}
