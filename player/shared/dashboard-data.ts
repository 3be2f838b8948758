// What the operations dashboard plots, from the balancer's /dashboard/samples answer: a ring of
// counter samples turned into per-edge rates (the edges' own /metrics), or Prometheus's recording
// rules as they come. Pure, so the page and the node tests share it.
import type { TierView } from './tier-view.js';
import { CHARTS, UPSTREAM_TIERS, type ChartName, type DashboardSamples, type EdgeCounters, type EdgeSample, type MetricsSamples, type PrometheusSeries } from '../../infra/prometheus/dashboard-samples.js';

export { CHARTS, type ChartName, type DashboardSamples, type EdgeSample, type MetricsSamples, type PrometheusSeries };

/** Chart data in uPlot's shape: shared times (seconds) and, per chart, one row per edge. */
export interface ChartData {
  readonly times: number[];
  readonly edges: string[];
  readonly values: Record<ChartName, (number | null)[][]>;
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function checkCounters(counters: EdgeCounters | undefined, where: string): void {
  if (counters === undefined) return;
  const numbers = [counters.responses, counters.cacheable, counters.hits, counters.originBytes, ...UPSTREAM_TIERS.flatMap((tier) => [counters.upstream?.[tier]?.requests, counters.upstream?.[tier]?.bytes])];
  if (!numbers.every(isNumber) || !Array.isArray(counters.ttfb?.le) || !Array.isArray(counters.ttfb.counts) || counters.ttfb.le.length !== counters.ttfb.counts.length) {
    throw new TypeError(`${where}: malformed counters`);
  }
}

function checkEdge(value: unknown, where: string): EdgeSample {
  const edge = value as EdgeSample;
  if (typeof edge?.id !== 'string' || typeof edge.region !== 'string' || typeof edge.health !== 'string') throw new TypeError(`${where}: id, region and health must be strings`);
  if (!isNumber(edge.lat) || !isNumber(edge.lon) || !isNumber(edge.activeSessions)) throw new TypeError(`${where}: lat, lon and activeSessions must be numbers`);
  checkCounters(edge.counters, where);
  return edge;
}

function checkMetricsSamples(answer: MetricsSamples, where: string): void {
  if (!isNumber(answer?.at) || !Array.isArray(answer.edges) || !Array.isArray(answer.shields)) throw new TypeError(`${where}at must be a number, edges and shields arrays`);
  answer.edges.forEach((edge, index) => checkEdge(edge, `${where}edges[${index}]`));
  answer.shields.forEach((shield, index) => {
    if (typeof shield?.id !== 'string' || typeof shield.region !== 'string') throw new TypeError(`${where}shields[${index}]: id and region must be strings`);
    checkCounters(shield.counters, `${where}shields[${index}]`);
  });
}

/** The balancer's answer, checked; a TypeError names what is wrong. */
export function parseDashboardSamples(value: unknown): DashboardSamples {
  const answer = value as DashboardSamples;
  if (answer?.source !== 'metrics' && answer?.source !== 'prometheus') throw new TypeError('source must be "metrics" or "prometheus"');
  if (answer.source === 'metrics') {
    checkMetricsSamples(answer, '');
    return answer;
  }
  if (!isNumber(answer.at) || !Array.isArray(answer.edges)) throw new TypeError('at must be a number and edges an array');
  answer.edges.forEach((edge, index) => checkEdge(edge, `edges[${index}]`));
  if (typeof answer.series !== 'object' || answer.series === null) throw new TypeError('series must be an object');
  for (const chart of CHARTS) if (typeof answer.series[chart] !== 'object') throw new TypeError(`series.${chart} is missing`);
  checkMetricsSamples(answer.scraped, 'scraped.');
  return answer;
}

/**
 * The q-quantile of a cumulative histogram, interpolated linearly inside the bucket as Prometheus's
 * histogram_quantile does; null with no observations. le -1 stands for +Inf: a quantile there is the
 * highest finite bound.
 */
export function histogramQuantile(q: number, le: readonly number[], counts: readonly number[]): number | null {
  const total = counts[counts.length - 1] ?? 0;
  if (!(total > 0) || le.length === 0) return null;
  const rank = q * total;
  let previousBound = 0;
  let previousCount = 0;
  for (let i = 0; i < le.length; i++) {
    const bound = le[i]!;
    const count = counts[i]!;
    if (count >= rank) {
      if (bound === -1) return previousBound;
      if (count === previousCount) return bound;
      return previousBound + (bound - previousBound) * ((rank - previousCount) / (count - previousCount));
    }
    previousBound = bound === -1 ? previousBound : bound;
    previousCount = count;
  }
  return previousBound;
}

/**
 * Each chart's value for one edge between two of its samples `seconds` apart: null where the
 * counters are missing, went backwards (the edge restarted) or, for ratios and quantiles, nothing
 * happened in between. Viewers is the later sample's gauge.
 */
export function ratesBetween(before: EdgeSample | undefined, after: EdgeSample, seconds: number): Record<ChartName, number | null> {
  const viewers = after.activeSessions;
  const a = before?.counters;
  const b = after.counters;
  if (!a || !b || !(seconds > 0) || b.responses < a.responses || b.cacheable < a.cacheable || b.originBytes < a.originBytes) {
    return { requests: null, hitRatio: null, originBytes: null, ttfbP99: null, viewers };
  }
  const cacheable = b.cacheable - a.cacheable;
  const sameBuckets = a.ttfb.le.length === b.ttfb.le.length && a.ttfb.le.every((bound, i) => bound === b.ttfb.le[i]);
  const bucketDeltas = sameBuckets ? b.ttfb.counts.map((count, i) => count - a.ttfb.counts[i]!) : [];
  return {
    requests: (b.responses - a.responses) / seconds,
    hitRatio: cacheable > 0 ? (b.hits - a.hits) / cacheable : null,
    originBytes: (b.originBytes - a.originBytes) / seconds,
    ttfbP99: sameBuckets && bucketDeltas.every((delta) => delta >= 0) ? histogramQuantile(0.99, b.ttfb.le, bucketDeltas) : null,
    viewers,
  };
}

/** A fixed-size ring of samples, oldest dropped first. */
export class SampleRing {
  readonly #items: MetricsSamples[] = [];
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 2) throw new TypeError(`capacity must be an integer ≥ 2, got ${capacity}`);
  }
  push(samples: MetricsSamples): void {
    const last = this.#items[this.#items.length - 1];
    if (last && samples.at <= last.at) return;
    this.#items.push(samples);
    if (this.#items.length > this.capacity) this.#items.shift();
  }
  get items(): readonly MetricsSamples[] {
    return this.#items;
  }
}

function emptyValues(edgeCount: number, pointCount: number): Record<ChartName, (number | null)[][]> {
  const rows = (): (number | null)[][] => Array.from({ length: edgeCount }, () => new Array<number | null>(pointCount).fill(null));
  return { requests: rows(), hitRatio: rows(), originBytes: rows(), ttfbP99: rows(), viewers: rows() };
}

/** One point per pair of consecutive samples, at the later one's time; edges as the newest sample lists them. */
export function chartDataFromRing(ring: readonly MetricsSamples[]): ChartData {
  const newest = ring[ring.length - 1];
  const edges = newest ? newest.edges.map((edge) => edge.id) : [];
  const pairs = ring.length - 1;
  const times: number[] = [];
  const values = emptyValues(edges.length, Math.max(pairs, 0));
  for (let p = 0; p < pairs; p++) {
    const before = ring[p]!;
    const after = ring[p + 1]!;
    times.push(after.at / 1000);
    const earlier = new Map(before.edges.map((edge) => [edge.id, edge]));
    after.edges.forEach((edge) => {
      const row = edges.indexOf(edge.id);
      if (row === -1) return;
      const rates = ratesBetween(earlier.get(edge.id), edge, (after.at - before.at) / 1000);
      for (const chart of CHARTS) values[chart][row]![p] = rates[chart];
    });
  }
  return { times, edges, values };
}

/** Prometheus's series on one time grid (the union of their timestamps); edges as the balancer lists them, then any others. */
export function chartDataFromPrometheus(answer: PrometheusSeries): ChartData {
  const edges = answer.edges.map((edge) => edge.id);
  const timeSet = new Set<number>();
  for (const chart of CHARTS) {
    for (const [id, points] of Object.entries(answer.series[chart])) {
      if (!edges.includes(id)) edges.push(id);
      for (const [time] of points) timeSet.add(time);
    }
  }
  const times = [...timeSet].sort((a, b) => a - b);
  const column = new Map(times.map((time, index) => [time, index]));
  const values = emptyValues(edges.length, times.length);
  for (const chart of CHARTS) {
    for (const [id, points] of Object.entries(answer.series[chart])) {
      const row = values[chart][edges.indexOf(id)]!;
      for (const [time, value] of points) row[column.get(time)!] = value;
    }
  }
  return { times, edges, values };
}

/** What the dashboard page shows, on window.streamedgeDashboard for tests and the console. */
export interface DashboardState {
  source: DashboardSamples['source'] | null;
  polls: number;
  samples: number;
  error: string | null;
  edges: { id: string; region: string; health: string; activeSessions: number; error: string | null }[];
  /** Chart → edge id → how many points have a value. */
  points: Record<ChartName, Record<string, number>>;
  /** Chart → edge id → the newest value (null when none). */
  latest: Record<ChartName, Record<string, number | null>>;
  /** Shields, the tier each edge fills from and the fleet's origin saving, over the last samples; null before two. */
  tiers: TierView | null;
}
