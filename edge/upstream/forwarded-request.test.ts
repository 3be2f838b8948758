import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_STRIPPED_REQUEST_HEADERS, forwardedRequestHeaders, strippedHeaderSet } from './forwarded-request.js';

const context = { clientAddress: '203.0.113.7', protocol: 'http' as const, via: '1.1 streamedge-edge-1', stripped: strippedHeaderSet(DEFAULT_STRIPPED_REQUEST_HEADERS) };

describe('request fields forwarded to the origin (RFC 9110 §7.6)', () => {
  it('§7.6.1: end-to-end fields go, hop-by-hop and Connection-listed ones do not', () => {
    const forwarded = forwardedRequestHeaders({
      host: 'edge.example', 'user-agent': 'player/1', accept: '*/*', 'accept-language': 'fr', 'x-trace': 'abc',
      connection: 'keep-alive, x-hop', 'keep-alive': 'timeout=5', 'x-hop': 'secret', te: 'trailers', 'transfer-encoding': 'chunked',
      'proxy-authorization': 'Basic x', upgrade: 'h2c',
    }, context);
    assert.deepEqual(forwarded, {
      'user-agent': 'player/1', accept: '*/*', 'accept-language': 'fr', 'x-trace': 'abc',
      via: '1.1 streamedge-edge-1', 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'http',
    });
  });
  it('conditionals and Range are the edge’s own; cookies and credentials stay out by default', () => {
    const forwarded = forwardedRequestHeaders({
      'if-none-match': '"a"', 'if-modified-since': 'x', range: 'bytes=0-1', 'if-range': '"a"', cookie: 'id=1', authorization: 'Bearer t',
    }, context);
    assert.deepEqual(Object.keys(forwarded).sort(), ['via', 'x-forwarded-for', 'x-forwarded-proto']);
  });
  it('§7.6.3: Via and X-Forwarded-For are appended to, not replaced', () => {
    const forwarded = forwardedRequestHeaders({ via: '1.1 shield', 'x-forwarded-for': '198.51.100.1' }, context);
    assert.equal(forwarded.via, '1.1 shield, 1.1 streamedge-edge-1');
    assert.equal(forwarded['x-forwarded-for'], '198.51.100.1, 203.0.113.7');
  });
  it('RFC 9113 §8.3: HTTP/2 pseudo-header fields are not forwarded as fields', () => {
    const forwarded = forwardedRequestHeaders({ ':method': 'GET', ':path': '/vod/a/master.m3u8', ':authority': 'edge.example', ':scheme': 'https', accept: '*/*' }, context);
    assert.deepEqual(Object.keys(forwarded).sort(), ['accept', 'via', 'x-forwarded-for', 'x-forwarded-proto']);
  });
  it('the stripped list is configuration: an empty list forwards cookies', () => {
    assert.equal(forwardedRequestHeaders({ cookie: 'id=1' }, { ...context, stripped: strippedHeaderSet([]) }).cookie, 'id=1');
    assert.throws(() => strippedHeaderSet(['bad name']), /field name/);
  });
});
