import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forwardedHeaderBlock, passThroughHeaderBlock, replayableHeaders } from './replayed-headers.js';

describe('replayed headers', () => {
  const origin = {
    'content-type': 'video/mp2t',
    etag: '"abc"',
    'cache-control': 'public, max-age=60',
    'cdn-cache-control': 'max-age=600',
    vary: 'accept-encoding',
    'content-length': '100',
    'content-range': 'bytes 0-99/1000',
    'accept-ranges': 'bytes',
    connection: 'keep-alive',
    'transfer-encoding': 'chunked',
    date: 'Thu, 01 Jan 2026 00:00:00 GMT',
    age: '5',
    'set-cookie': ['a=1', 'b=2'],
    'access-control-allow-origin': 'https://example.com',
    'x-origin-id': 'origin-a',
    server: 'origin',
  };
  it('stores end-to-end fields only: no hop-by-hop (RFC 9110 §7.6.1), per-response, framing or internal ones', () => {
    assert.deepEqual(replayableHeaders(origin), {
      'content-type': 'video/mp2t',
      etag: '"abc"',
      'cache-control': 'public, max-age=60',
      'cdn-cache-control': 'max-age=600',
      vary: 'accept-encoding',
    });
  });
  it('never stores or replays a field the response’s Connection lists (RFC 9110 §7.6.1)', () => {
    const listed = { 'content-type': 'text/plain', connection: 'keep-alive, X-Hop, x-other', 'x-hop': 'secret', 'x-other': '1', 'x-kept': 'yes' };
    assert.deepEqual(replayableHeaders(listed), { 'content-type': 'text/plain', 'x-kept': 'yes' });
    assert.deepEqual(passThroughHeaderBlock(listed), ['content-type', 'text/plain', 'x-kept', 'yes']);
  });
  it('keeps CDN-Cache-Control from viewers (RFC 9213)', () => {
    assert.deepEqual(forwardedHeaderBlock(replayableHeaders(origin)), [
      'content-type', 'video/mp2t', 'etag', '"abc"', 'cache-control', 'public, max-age=60', 'vary', 'accept-encoding',
    ]);
  });
  it('a pass-through adds the origin’s own framing to the same fields', () => {
    assert.deepEqual(passThroughHeaderBlock(origin), [
      'content-type', 'video/mp2t', 'etag', '"abc"', 'cache-control', 'public, max-age=60', 'vary', 'accept-encoding',
      'content-length', '100', 'content-range', 'bytes 0-99/1000', 'accept-ranges', 'bytes',
    ]);
  });
});
