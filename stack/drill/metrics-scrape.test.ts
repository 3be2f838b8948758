import assert from 'node:assert/strict';
import { test } from 'node:test';
import { counterGrowth, sumSamples } from './metrics-scrape.js';

const TEXT = [
  '# HELP streamedge_origin_requests_total Requests answered',
  '# TYPE streamedge_origin_requests_total counter',
  'streamedge_origin_requests_total{kind="health",status="200"} 40',
  'streamedge_origin_requests_total{kind="segment",status="200"} 7',
  'streamedge_origin_requests_total{kind="live-playlist",status="200"} 3',
  'streamedge_origin_requests_total_other 99',
  'streamedge_origin_request_duration_seconds_count 12',
].join('\n');

test('samples of one metric are summed, filtered by label, and other metrics sharing the prefix are not', () => {
  assert.equal(sumSamples(TEXT, { name: 'streamedge_origin_requests_total' }), 50);
  assert.equal(sumSamples(TEXT, { name: 'streamedge_origin_requests_total', keep: (labels) => labels.kind !== 'health' }), 10);
  assert.equal(sumSamples('', { name: 'x' }), 0);
});

test('counter growth survives a process restart (its counter starts over) and a scrape that did not answer', () => {
  const before = new Map<string, number | undefined>([['a', 10], ['b', 50], ['c', 5]]);
  const after = new Map<string, number | undefined>([['a', 15], ['b', 4], ['c', undefined]]);
  // a grew by 5; b restarted and counted 4 since; c is unreadable now.
  assert.equal(counterGrowth(before, after), 9);
});
