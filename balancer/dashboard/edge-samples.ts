// The dashboard's data when no Prometheus is configured: each edge's own /metrics, scraped on
// request with a timeout and a bounded number at once, reduced to the cumulative counters the page
// turns into rates (it keeps the ring of samples; the balancer keeps nothing).
import { fetch, type Dispatcher } from 'undici';
import { parsePrometheusText, sumSamples, type MetricSample } from '../../infra/prometheus/prometheus-text.js';
import type { EdgeCounters, EdgeSample, MetricsSamples } from '../../infra/prometheus/dashboard-samples.js';
import type { EdgeStatus } from '../status-report.js';

/** Cache statuses whose body came from the cache; the hit-ratio recording rule uses the same set. */
const HIT_STATUSES = /^(?:hit|stale|stale-if-error|revalidated)$/;
/** Cache statuses whose body came from the origin on the viewer's request. */
const ORIGIN_STATUSES = /^(?:miss|expired)$/;

/** The counters the dashboard reads, from one edge's parsed exposition. */
export function edgeCountersFrom(samples: readonly MetricSample[]): EdgeCounters | undefined {
  if (!samples.some((sample) => sample.name === 'streamedge_edge_responses_total')) return undefined;
  const buckets = samples
    .filter((sample) => sample.name === 'streamedge_edge_origin_response_seconds_bucket' && sample.labels.outcome === 'ok')
    .map((sample) => ({ le: Number(sample.labels.le === '+Inf' ? Infinity : sample.labels.le), count: sample.value }))
    .filter((bucket) => !Number.isNaN(bucket.le))
    .sort((a, b) => a.le - b.le);
  return {
    responses: sumSamples(samples, 'streamedge_edge_responses_total'),
    cacheable: sumSamples(samples, 'streamedge_edge_responses_total', { cache_status: /^(?!bypass$)/ }),
    hits: sumSamples(samples, 'streamedge_edge_responses_total', { cache_status: HIT_STATUSES }),
    originBytes: sumSamples(samples, 'streamedge_edge_response_bytes_total', { cache_status: ORIGIN_STATUSES }),
    // JSON has no Infinity: the +Inf bucket is written as null by JSON.stringify, so it is sent as -1.
    ttfb: { le: buckets.map((bucket) => (bucket.le === Infinity ? -1 : bucket.le)), counts: buckets.map((bucket) => bucket.count) },
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

export type EdgeSampler = (edges: readonly EdgeStatus[]) => Promise<MetricsSamples>;

export function createEdgeSampler(options: EdgeSamplerOptions): EdgeSampler {
  if (!Number.isInteger(options.timeoutMs) || options.timeoutMs <= 0) throw new TypeError(`timeoutMs must be a positive integer, got ${options.timeoutMs}`);
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new TypeError(`concurrency must be an integer ≥ 1, got ${options.concurrency}`);
  const maxBytes = options.maxBytes ?? 1024 * 1024;

  const scrape = async (edge: EdgeStatus): Promise<Pick<EdgeSample, 'counters' | 'error'>> => {
    try {
      const response = await fetch(new URL('/metrics', edge.url), {
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

  return async (edges) => {
    const at = Date.now();
    const results: Pick<EdgeSample, 'counters' | 'error'>[] = new Array(edges.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < edges.length) {
        const index = next++;
        results[index] = await scrape(edges[index]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency, edges.length) }, worker));
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
    };
  };
}
