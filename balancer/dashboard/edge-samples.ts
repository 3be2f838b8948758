// The dashboard's counters: each edge's and shield's own /metrics, scraped on request with a
// timeout and a bounded number at once, reduced to the cumulative counters the page turns into
// rates (it keeps the ring of samples; the balancer keeps nothing). Without Prometheus they feed
// every chart; with it, the tier view (the shipped Prometheus configuration scrapes no shield).
import { fetch, type Dispatcher } from 'undici';
import { parsePrometheusText, sumSamples, type MetricSample } from '../../infra/prometheus/prometheus-text.js';
import { UPSTREAM_TIERS, type EdgeCounters, type EdgeSample, type MetricsSamples, type ShieldSample, type UpstreamTier, type TierCounters } from '../../infra/prometheus/dashboard-samples.js';
import type { ShieldStatus } from '../discovery/shield-watch.js';
import type { EdgeStatus } from '../status-report.js';

/** Cache statuses whose body came from the cache; the hit-ratio recording rule uses the same set. */
const HIT_STATUSES = /^(?:hit|stale|stale-if-error|revalidated)$/;
/** Cache statuses whose body came from the origin on the viewer's request. */
const ORIGIN_STATUSES = /^(?:miss|expired)$/;

/** Tier fetch results that are requests sent to the tier (a continuation is counted as its own fetch too). */
const TIER_REQUEST_RESULTS = /^(?:answered|failed|http-5xx)$/;
const UPSTREAM_TIER_LABEL = new RegExp(`^(?:${UPSTREAM_TIERS.join('|')})$`);

/** The upstream tiers' response-time histogram, summed over the tiers: cumulative count per bound. */
function upstreamBuckets(samples: readonly MetricSample[]): { le: number; count: number }[] {
  const byBound = new Map<number, number>();
  for (const sample of samples) {
    if (sample.name !== 'streamedge_edge_upstream_tier_response_seconds_bucket' || !UPSTREAM_TIER_LABEL.test(sample.labels.tier ?? '')) continue;
    const le = Number(sample.labels.le === '+Inf' ? Infinity : sample.labels.le);
    if (!Number.isNaN(le)) byBound.set(le, (byBound.get(le) ?? 0) + sample.value);
  }
  return [...byBound].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}

/** The counters the dashboard reads, from one edge's (or shield's) parsed exposition. */
export function edgeCountersFrom(samples: readonly MetricSample[]): EdgeCounters | undefined {
  if (!samples.some((sample) => sample.name === 'streamedge_edge_responses_total')) return undefined;
  const buckets = upstreamBuckets(samples);
  const tier = (name: UpstreamTier): TierCounters => ({
    requests: sumSamples(samples, 'streamedge_edge_upstream_tier_fetches_total', { tier: name, result: TIER_REQUEST_RESULTS }),
    bytes: sumSamples(samples, 'streamedge_edge_upstream_tier_bytes_total', { tier: name }),
  });
  return {
    responses: sumSamples(samples, 'streamedge_edge_responses_total'),
    cacheable: sumSamples(samples, 'streamedge_edge_responses_total', { cache_status: /^(?!bypass$)/ }),
    hits: sumSamples(samples, 'streamedge_edge_responses_total', { cache_status: HIT_STATUSES }),
    originBytes: sumSamples(samples, 'streamedge_edge_response_bytes_total', { cache_status: ORIGIN_STATUSES }),
    // JSON has no Infinity: the +Inf bucket is written as null by JSON.stringify, so it is sent as -1.
    ttfb: { le: buckets.map((bucket) => (bucket.le === Infinity ? -1 : bucket.le)), counts: buckets.map((bucket) => bucket.count) },
    upstream: { sibling: tier('sibling'), shield: tier('shield'), origin: tier('origin') },
  };
}

export interface EdgeSamplerOptions {
  /** Per scrape, connection to end of body. */
  readonly timeoutMs: number;
  /** Scrapes under way at once. */
  readonly concurrency: number;
  /** Bodies longer than this are refused (an edge's exposition is a few KiB). */
  readonly maxBytes?: number;
  /** Sent as `Authorization: Bearer` to edges whose /metrics is behind --metrics-token-file. */
  readonly bearerToken?: string | undefined;
  /** The pool (and TLS trust) edges are reached through; default: fetch's own. */
  readonly dispatcher?: Dispatcher;
}

export type EdgeSampler = (edges: readonly EdgeStatus[], shields: readonly ShieldStatus[]) => Promise<MetricsSamples>;

export function createEdgeSampler(options: EdgeSamplerOptions): EdgeSampler {
  if (!Number.isInteger(options.timeoutMs) || options.timeoutMs <= 0) throw new TypeError(`timeoutMs must be a positive integer, got ${options.timeoutMs}`);
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new TypeError(`concurrency must be an integer ≥ 1, got ${options.concurrency}`);
  const maxBytes = options.maxBytes ?? 1024 * 1024;

  const scrape = async (node: { readonly url: string }): Promise<Pick<EdgeSample, 'counters' | 'error'>> => {
    try {
      const response = await fetch(new URL('/metrics', node.url), {
        signal: AbortSignal.timeout(options.timeoutMs),
        ...(options.bearerToken ? { headers: { authorization: `Bearer ${options.bearerToken}` } } : {}),
        ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      });
      if (!response.ok) {
        await response.body?.cancel();
        return { error: `/metrics answered ${response.status}` };
      }
      const text = await response.text();
      if (text.length > maxBytes) return { error: `/metrics body over ${maxBytes} bytes` };
      const counters = edgeCountersFrom(parsePrometheusText(text));
      return counters ? { counters } : { error: '/metrics has no streamedge_edge_responses_total' };
    } catch (error) {
      const failure = error as Error;
      return { error: failure.name === 'TimeoutError' ? `/metrics timed out after ${options.timeoutMs} ms` : `/metrics: ${failure.message}` };
    }
  };

  return async (edges, shields) => {
    const at = Date.now();
    const nodes = [...edges, ...shields];
    const results: Pick<EdgeSample, 'counters' | 'error'>[] = new Array(nodes.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < nodes.length) {
        const index = next++;
        results[index] = await scrape(nodes[index]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency, nodes.length) }, worker));
    return {
      source: 'metrics',
      at,
      edges: edges.map((edge, index) => ({
        id: edge.id,
        region: edge.region,
        lat: edge.lat,
        lon: edge.lon,
        url: edge.url,
        health: edge.health,
        activeSessions: edge.activeSessions,
        ...results[index],
      })),
      shields: shields.map((shield, index): ShieldSample => ({ id: shield.id, region: shield.region, url: shield.url, ...results[edges.length + index] })),
    };
  };
}
