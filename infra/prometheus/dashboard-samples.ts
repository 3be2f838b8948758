// The JSON the balancer's GET /dashboard/samples answers and the dashboard page reads: the one
// contract between balancer/dashboard/ (which writes it) and player/shared/dashboard-data.ts (which
// turns it into charts). Types and names only; nothing here runs.

/** The five charts, in page order. */
export const CHARTS = ['requests', 'hitRatio', 'originBytes', 'ttfbP99', 'viewers'] as const;
export type ChartName = (typeof CHARTS)[number];

/** Chart → the recording rule (infra/prometheus/rules/streamedge-recording.yml) it plots with --prometheus. */
export const DASHBOARD_RULES: Readonly<Record<ChartName, string>> = {
  requests: 'id_region:streamedge_edge_responses:rate1m',
  hitRatio: 'id_region:streamedge_edge_hit_ratio:rate5m',
  originBytes: 'id_region:streamedge_edge_origin_bytes:rate1m',
  ttfbP99: 'id_region:streamedge_edge_upstream_ttfb_seconds:p99_rate5m',
  viewers: 'id:streamedge_balancer_active_sessions:sum',
};

/** The tiers above a node that its fills ask (edge/upstream/tiered-fetch.ts; not its own sibling workers). */
export const UPSTREAM_TIERS = ['sibling', 'shield', 'origin'] as const;
export type UpstreamTier = (typeof UPSTREAM_TIERS)[number];

/** A node's fills towards one upstream tier. */
export interface TierCounters {
  /** Requests sent (answered, failed or 5xx; continuations of a broken body not counted). */
  readonly requests: number;
  /** Body bytes read from responses whose head the tier answered. */
  readonly bytes: number;
}

/** One edge's (or shield's) counters since it started; the page subtracts two samples to get rates. */
export interface EdgeCounters {
  /** Every response, control endpoints included (as the req/s recording rule counts). */
  readonly responses: number;
  /** Responses that were not bypass. */
  readonly cacheable: number;
  /** Fresh, stale, stale-if-error and revalidated: the hit-ratio recording rule's set. */
  readonly hits: number;
  /** Body bytes of misses and expired entries: what came from the origin for viewers. */
  readonly originBytes: number;
  /**
   * streamedge_edge_upstream_tier_response_seconds of the upstream tiers: time to response headers
   * (or failure) from whichever tier a miss asked. Histogram upper bounds (-1 for +Inf) and
   * cumulative counts, in order.
   */
  readonly ttfb: { readonly le: readonly number[]; readonly counts: readonly number[] };
  /** Fills per upstream tier. */
  readonly upstream: Readonly<Record<UpstreamTier, TierCounters>>;
}

export interface EdgeSample {
  readonly id: string;
  readonly region: string;
  readonly lat: number;
  readonly lon: number;
  readonly url: string;
  /** The balancer's passive-health state of the edge. */
  readonly health: string;
  /** Viewer sessions the balancer (all its workers) holds on the edge. */
  readonly activeSessions: number;
  readonly counters?: EdgeCounters;
  /** Why there are no counters: the scrape failed, timed out or answered no edge metrics. */
  readonly error?: string;
}

/** A passing shield (Consul) and its counters, as the balancer's /status lists it. */
export interface ShieldSample {
  readonly id: string;
  readonly region: string;
  readonly url: string;
  readonly counters?: EdgeCounters;
  readonly error?: string;
}

/** Every edge's and shield's counters now (ms since the epoch when the scrapes started). */
export interface MetricsSamples {
  readonly source: 'metrics';
  readonly at: number;
  readonly edges: readonly EdgeSample[];
  readonly shields: readonly ShieldSample[];
}

/** [seconds since the epoch, value or null where Prometheus had NaN]. */
export type SeriesPoint = readonly [number, number | null];

/** With --prometheus: each chart's recording rule over a window, per edge id, on one time grid. */
export interface PrometheusSeries {
  readonly source: 'prometheus';
  readonly at: number;
  /** No counters here: place, health and sessions only. */
  readonly edges: readonly EdgeSample[];
  /** Seconds since the epoch. */
  readonly range: { readonly start: number; readonly end: number; readonly step: number };
  /** Chart → edge id → points. */
  readonly series: Readonly<Record<ChartName, Readonly<Record<string, readonly SeriesPoint[]>>>>;
  /** Queries that failed, by chart; their series are empty. */
  readonly errors: Readonly<Partial<Record<ChartName, string>>>;
  /** The tier view's counters, scraped from the edges and shields as without Prometheus (no recording rule covers shields). */
  readonly scraped: MetricsSamples;
}

export type DashboardSamples = MetricsSamples | PrometheusSeries;
