import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateRange } from './byte-range.js';
import { isNotModified, rangeStillValid } from './conditional-request.js';

test('Range headers: single ranges, suffixes, unsatisfiable and ignored ones', () => {
  const cases: [string | undefined, ReturnType<typeof evaluateRange>][] = [
    [undefined, { kind: 'full' }],
    ['bytes=0-99', { kind: 'partial', start: 0, end: 99 }],
    ['bytes=100-', { kind: 'partial', start: 100, end: 999 }],
    ['bytes=900-5000', { kind: 'partial', start: 900, end: 999 }],
    ['bytes=-100', { kind: 'partial', start: 900, end: 999 }],
    ['bytes=-5000', { kind: 'partial', start: 0, end: 999 }],
    ['BYTES = 5-5', { kind: 'partial', start: 5, end: 5 }],
    ['bytes=1000-', { kind: 'unsatisfiable' }],
    ['bytes=1000-2000', { kind: 'unsatisfiable' }],
    ['bytes=-0', { kind: 'unsatisfiable' }],
    ['bytes=0-1,5-9', { kind: 'full', reason: 'multiple ranges' }],
    ['bytes=5-1', { kind: 'full', reason: 'invalid range' }],
    ['bytes=-', { kind: 'full', reason: 'invalid range' }],
    ['bytes=a-b', { kind: 'full', reason: 'invalid range' }],
    ['items=0-1', { kind: 'full', reason: 'invalid range' }],
    ['bytes=0-1,x', { kind: 'full', reason: 'invalid range' }],
    ['bytes=99999999999999999999-', { kind: 'full', reason: 'invalid range' }],
  ];
  for (const [header, expected] of cases) assert.deepEqual(evaluateRange(header, 1000), expected, String(header));
  assert.deepEqual(evaluateRange('bytes=0-', 0), { kind: 'unsatisfiable' });
  assert.deepEqual(evaluateRange('bytes=-1', 0), { kind: 'unsatisfiable' });
});

test('If-None-Match, If-Modified-Since and If-Range', () => {
  const etag = '"abc"';
  const modified = new Date('2026-01-01T00:00:00.500Z');
  assert.equal(isNotModified({ 'if-none-match': '"abc"' }, etag, modified), true);
  assert.equal(isNotModified({ 'if-none-match': '"x", W/"abc"' }, etag, modified), true);
  assert.equal(isNotModified({ 'if-none-match': '*' }, etag, modified), true);
  assert.equal(isNotModified({ 'if-none-match': '"x"' }, etag, modified), false);
  assert.equal(isNotModified({ 'if-modified-since': 'Thu, 01 Jan 2026 00:00:00 GMT' }, etag, modified), true);
  assert.equal(isNotModified({ 'if-modified-since': 'Wed, 31 Dec 2025 23:59:59 GMT' }, etag, modified), false);
  assert.equal(isNotModified({ 'if-modified-since': 'garbage' }, etag, modified), false);
  // If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2)
  assert.equal(isNotModified({ 'if-none-match': '"x"', 'if-modified-since': 'Thu, 01 Jan 2026 00:00:00 GMT' }, etag, modified), false);

  assert.equal(rangeStillValid({}, etag, modified), true);
  assert.equal(rangeStillValid({ 'if-range': '"abc"' }, etag, modified), true);
  assert.equal(rangeStillValid({ 'if-range': 'W/"abc"' }, etag, modified), false, 'weak tags never match If-Range');
  assert.equal(rangeStillValid({ 'if-range': '"old"' }, etag, modified), false);
  assert.equal(rangeStillValid({ 'if-range': 'Thu, 01 Jan 2026 00:00:00 GMT' }, etag, modified), true);
  assert.equal(rangeStillValid({ 'if-range': 'Thu, 01 Jan 2026 00:00:01 GMT' }, etag, modified), false);
});
