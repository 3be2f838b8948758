import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isNotModified, rangeStillValid } from './conditional-request.js';

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
