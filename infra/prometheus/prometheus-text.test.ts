import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePrometheusText, sumMetric, sumSamples } from './prometheus-text.js';

const exposition = `# HELP streamedge_origin_requests_total Requests answered
# TYPE streamedge_origin_requests_total counter
streamedge_origin_requests_total{kind="vod-segment",status="200"} 12
streamedge_origin_requests_total{kind="vod-segment",status="304"} 3
streamedge_origin_requests_total{kind="vod-playlist",status="200"} 5
streamedge_origin_requests_total_extra{kind="vod-segment"} 100
streamedge_origin_response_bytes_total 2.5e6
`;

test('sumMetric adds the samples of exactly one metric whose labels match', () => {
  assert.equal(sumMetric(exposition, 'streamedge_origin_requests_total'), 20);
  assert.equal(sumMetric(exposition, 'streamedge_origin_requests_total', { kind: 'vod-segment' }), 15);
  assert.equal(sumMetric(exposition, 'streamedge_origin_requests_total', { kind: 'vod-segment', status: '304' }), 3);
  assert.equal(sumMetric(exposition, 'streamedge_origin_response_bytes_total'), 2.5e6);
  assert.equal(sumMetric(exposition, 'missing_metric'), 0);
});

test('parsePrometheusText reads labels with escapes, histogram buckets, special values and timestamps', () => {
  const samples = parsePrometheusText(`# TYPE h histogram
h_bucket{outcome="ok",le="0.005"} 3
h_bucket{outcome="ok",le="+Inf"} 7 1700000000000
odd{path="a \\"quoted\\" \\\\ b\\nc",} 1
g NaN
g2 +Inf
broken{le="0.1"
not a sample line
`);
  assert.deepEqual(samples.slice(0, 3), [
    { name: 'h_bucket', labels: { outcome: 'ok', le: '0.005' }, value: 3 },
    { name: 'h_bucket', labels: { outcome: 'ok', le: '+Inf' }, value: 7 },
    { name: 'odd', labels: { path: 'a "quoted" \\ b\nc' }, value: 1 },
  ]);
  assert.ok(Number.isNaN(samples[3]!.value));
  assert.equal(samples[4]!.value, Infinity);
  assert.equal(samples.length, 5);
  assert.equal(sumSamples(samples, 'h_bucket', { le: /^0\./ }), 3);
  assert.equal(sumSamples(samples, 'h_bucket', { missing: 'x' }), 0);
});
