import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  chartDataFromPrometheus,
  chartDataFromRing,
  histogramQuantile,
  parseDashboardSamples,
  ratesBetween,
  SampleRing,
  type EdgeSample,
  type MetricsSamples,
  type PrometheusSeries,
} from './dashboard-data.js';

const LE = [0.01, 0.1, 1, -1];
const NO_FILLS = { sibling: { requests: 0, bytes: 0 }, shield: { requests: 0, bytes: 0 }, origin: { requests: 0, bytes: 0 } };

function edge(id: string, counters: Partial<NonNullable<EdgeSample['counters']>> | undefined, activeSessions = 0): EdgeSample {
  return {
    id,
    region: 'us-east',
    lat: 39,
    lon: -77,
    url: `http://${id}`,
    health: 'healthy',
    activeSessions,
    ...(counters ? { counters: { responses: 0, cacheable: 0, hits: 0, originBytes: 0, ttfb: { le: LE, counts: [0, 0, 0, 0] }, upstream: NO_FILLS, ...counters } } : {}),
  };
}

const round = (value: number | null): number | null => (value === null ? null : Math.round(value * 1e9) / 1e9);
const samples = (at: number, edges: EdgeSample[]): MetricsSamples => ({ source: 'metrics', at, edges, shields: [] });

describe('histogramQuantile', () => {
  it('interpolates inside the bucket holding the rank, as Prometheus does', () => {
    assert.equal(round(histogramQuantile(0.5, LE, [0, 10, 10, 10])), 0.055);
    assert.equal(round(histogramQuantile(0.99, LE, [100, 100, 100, 100])), 0.0099);
    assert.equal(histogramQuantile(0.99, LE, [0, 0, 0, 0]), null);
    // In the +Inf bucket: the highest finite bound.
    assert.equal(histogramQuantile(0.99, LE, [0, 0, 1, 5]), 1);
  });
});

describe('ratesBetween', () => {
  it('turns two counter samples into req/s, hit ratio, origin bytes/s, p99 TTFB and viewers', () => {
    const before = edge('e', { responses: 100, cacheable: 80, hits: 40, originBytes: 1000, ttfb: { le: LE, counts: [5, 5, 5, 5] } });
    const after = edge('e', { responses: 120, cacheable: 100, hits: 55, originBytes: 5000, ttfb: { le: LE, counts: [5, 15, 15, 15] } }, 3);
    const rates = ratesBetween(before, after, 2);
    assert.deepEqual({ ...rates, ttfbP99: round(rates.ttfbP99) }, { requests: 10, hitRatio: 0.75, originBytes: 2000, ttfbP99: 0.0991, viewers: 3 });
  });

  it('has no rate across a restart, a missing sample or a quiet ratio, but always the viewers', () => {
    const before = edge('e', { responses: 100, cacheable: 80 });
    const nulls = { requests: null, hitRatio: null, originBytes: null, ttfbP99: null };
    assert.deepEqual(ratesBetween(before, edge('e', { responses: 3, cacheable: 3 }, 2), 2), { ...nulls, viewers: 2 });
    assert.deepEqual(ratesBetween(undefined, edge('e', { responses: 3 }), 2), { ...nulls, viewers: 0 });
    assert.deepEqual(ratesBetween(before, edge('e', undefined, 1), 2), { ...nulls, viewers: 1 });
    assert.deepEqual(ratesBetween(before, edge('e', { responses: 104, cacheable: 80 }), 2), { requests: 2, hitRatio: null, originBytes: 0, ttfbP99: null, viewers: 0 });
  });
});

describe('SampleRing and chartDataFromRing', () => {
  it('keeps the newest samples and plots one point per consecutive pair, per edge of the newest sample', () => {
    const ring = new SampleRing(3);
    ring.push(samples(1000, [edge('a', { responses: 0 }), edge('gone', { responses: 0 })]));
    ring.push(samples(2000, [edge('a', { responses: 10 })]));
    ring.push(samples(2000, [edge('a', { responses: 99 })])); // not newer: ignored
    ring.push(samples(3000, [edge('a', { responses: 30 }), edge('b', { responses: 7 })]));
    ring.push(samples(5000, [edge('a', { responses: 70 }), edge('b', { responses: 9 }, 4)]));
    assert.deepEqual(ring.items.map((item) => item.at), [2000, 3000, 5000]);
    const data = chartDataFromRing(ring.items);
    assert.deepEqual(data.times, [3, 5]);
    assert.deepEqual(data.edges, ['a', 'b']);
    assert.deepEqual(data.values.requests, [[20, 20], [null, 1]]);
    assert.deepEqual(data.values.viewers, [[0, 0], [0, 4]]);
    assert.deepEqual(chartDataFromRing([]), { times: [], edges: [], values: { requests: [], hitRatio: [], originBytes: [], ttfbP99: [], viewers: [] } });
    assert.throws(() => new SampleRing(1), /capacity must be an integer ≥ 2/);
  });
});

describe('chartDataFromPrometheus', () => {
  it('puts every series on the union of their timestamps, edges as the balancer lists them first', () => {
    const answer: PrometheusSeries = {
      source: 'prometheus',
      at: 0,
      edges: [edge('a', undefined), edge('b', undefined)],
      range: { start: 10, end: 30, step: 10 },
      series: {
        requests: { b: [[10, 1], [20, 2]], a: [[20, 5], [30, null]] },
        hitRatio: {},
        originBytes: {},
        ttfbP99: { c: [[30, 0.2]] },
        viewers: {},
      },
      errors: {},
      scraped: samples(0, []),
    };
    const data = chartDataFromPrometheus(answer);
    assert.deepEqual(data.times, [10, 20, 30]);
    assert.deepEqual(data.edges, ['a', 'b', 'c']);
    assert.deepEqual(data.values.requests, [[null, 5, null], [1, 2, null], [null, null, null]]);
    assert.deepEqual(data.values.ttfbP99[2], [null, null, 0.2]);
  });
});

describe('parseDashboardSamples', () => {
  it('accepts both sources and names what is wrong', () => {
    assert.equal(parseDashboardSamples(samples(1, [edge('a', { responses: 1 })])).source, 'metrics');
    assert.throws(() => parseDashboardSamples({ source: 'graphite' }), /source must be/);
    assert.throws(() => parseDashboardSamples({ source: 'metrics', at: 1, edges: [{ id: 'a' }], shields: [] }), /edges\[0\]: id, region and health must be strings/);
    assert.throws(() => parseDashboardSamples({ source: 'prometheus', at: 1, edges: [], series: { requests: {} } }), /series\.hitRatio is missing/);
    const broken = { ...edge('a', { responses: 1 }), counters: { responses: 1, cacheable: 1, hits: 1, originBytes: 1, ttfb: { le: [1], counts: [] }, upstream: NO_FILLS } };
    assert.throws(() => parseDashboardSamples(samples(1, [broken])), /edges\[0\]: malformed counters/);
    const noTiers = { ...edge('a', { responses: 1 }), counters: { responses: 1, cacheable: 1, hits: 1, originBytes: 1, ttfb: { le: [], counts: [] } } };
    assert.throws(() => parseDashboardSamples({ ...samples(1, []), edges: [noTiers] }), /edges\[0\]: malformed counters/);
    assert.throws(() => parseDashboardSamples({ source: 'metrics', at: 1, edges: [] }), /edges and shields arrays/);
    assert.throws(() => parseDashboardSamples({ ...samples(1, []), shields: [{ id: 's', region: 'us-east', counters: { responses: 'x' } }] }), /shields\[0\]: malformed counters/);
    const series = { requests: {}, hitRatio: {}, originBytes: {}, ttfbP99: {}, viewers: {} };
    assert.throws(() => parseDashboardSamples({ source: 'prometheus', at: 1, edges: [], series, errors: {} }), /scraped\.at must be a number/);
  });
});
