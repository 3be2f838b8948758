import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sumMetric } from './prometheus-text.js';

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
