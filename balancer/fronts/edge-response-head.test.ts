import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkedBodyEnd, parseResponseHead } from './edge-response-head.js';

const MAX = 16 * 1024;
const parse = (text: string, method = 'GET') => parseResponseHead(Buffer.from(text, 'latin1'), method, MAX);

describe('parseResponseHead', () => {
  it('reads status, reason, lower-cased fields (repeated ones kept), framing and its length', () => {
    const text = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nX-Served-By: edge-1\r\n\r\n';
    const parsed = parse(`${text}hello`);
    assert.equal(parsed.kind, 'head');
    if (parsed.kind !== 'head') return;
    assert.equal(parsed.head.status, 200);
    assert.equal(parsed.head.reason, 'OK');
    assert.deepEqual(parsed.head.headers, { 'content-length': '5', 'set-cookie': ['a=1', 'b=2'], 'x-served-by': 'edge-1' });
    assert.deepEqual(parsed.head.framing, { kind: 'length', bytes: 5 });
    assert.equal(parsed.head.reusable, true);
    assert.equal(parsed.head.length, Buffer.byteLength(text));
  });

  it('frames by the request and status: HEAD, 204 and 304 have no body; chunked; otherwise until close', () => {
    const framing = (text: string, method?: string) => {
      const parsed = parse(text, method);
      return parsed.kind === 'head' ? [parsed.head.framing.kind, parsed.head.reusable] : parsed.kind;
    };
    assert.deepEqual(framing('HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n', 'HEAD'), ['none', true]);
    assert.deepEqual(framing('HTTP/1.1 304 Not Modified\r\n\r\n'), ['none', true]);
    assert.deepEqual(framing('HTTP/1.1 204 No Content\r\n\r\n'), ['none', true]);
    assert.deepEqual(framing('HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n'), ['chunked', true]);
    assert.deepEqual(framing('HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n'), ['close', false]);
    assert.deepEqual(framing('HTTP/1.1 200 OK\r\n\r\n'), ['close', false]);
    assert.deepEqual(framing('HTTP/1.1 200 OK\r\ncontent-length: 1\r\nconnection: close\r\n\r\n'), ['length', false]);
    assert.deepEqual(framing('HTTP/1.0 200 OK\r\ncontent-length: 1\r\n\r\n'), ['length', false]);
    assert.deepEqual(framing('HTTP/1.0 200 OK\r\ncontent-length: 1\r\nconnection: keep-alive\r\n\r\n'), ['length', true]);
    assert.deepEqual(framing('HTTP/1.1 100 Continue\r\n\r\n'), ['none', true]);
  });

  it('writes the viewer its head as the edge sent it, without hop-by-hop fields or those Connection lists, then the body', () => {
    const text = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive, X-Hop\r\nKeep-Alive: timeout=5\r\nX-Hop: 1\r\nCache-Status: edge; hit\r\nTrailer: x\r\nETag:  "a"  \r\n\r\n';
    const source = Buffer.from(`${text}hello`, 'latin1');
    const parsed = parseResponseHead(source, 'GET', MAX);
    assert.equal(parsed.kind, 'head');
    if (parsed.kind !== 'head') return;
    const body = source.subarray(parsed.head.length);
    assert.equal(
      parsed.head.forViewer(source, 'connection: keep-alive\r\n', body).toString('latin1'),
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nCache-Status: edge; hit\r\nETag:  "a"  \r\nconnection: keep-alive\r\n\r\nhello',
    );
    assert.equal(parsed.head.headers.etag, '"a"', 'field values without their surrounding spaces');
  });

  it('tells the viewer a body is chunked, or that the connection closes when the body ends with it', () => {
    const forViewer = (text: string) => {
      const source = Buffer.from(text, 'latin1');
      const parsed = parseResponseHead(source, 'GET', MAX);
      return parsed.kind === 'head' ? parsed.head.forViewer(source, 'connection: keep-alive\r\n', Buffer.alloc(0)).toString('latin1') : parsed.kind;
    };
    assert.equal(forViewer('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'), 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\n');
    assert.equal(forViewer('HTTP/1.0 200 Fine\r\nX: 1\r\n\r\n'), 'HTTP/1.1 200 Fine\r\nX: 1\r\nconnection: close\r\n\r\n');
  });

  it('waits for the blank line', () => {
    assert.equal(parse('HTTP/1.1 200 OK\r\ncontent-length: 1\r\n').kind, 'incomplete');
    assert.equal(parse('').kind, 'incomplete');
  });

  // A try that gets one of these fails before the viewer gets a byte, and may go to the next edge.
  const malformed: Record<string, string> = {
    'a bad status line': 'HTTP/2 200 OK\r\n\r\n',
    'a status out of range': 'HTTP/1.1 099 Odd\r\n\r\n',
    'a field without a colon': 'HTTP/1.1 200 OK\r\nbroken\r\n\r\n',
    'a bad field name': 'HTTP/1.1 200 OK\r\nbad name: x\r\n\r\n',
    'a field name with a byte above ASCII': 'HTTP/1.1 200 OK\r\nx\xe9: 1\r\n\r\n',
    'a field with an empty name': 'HTTP/1.1 200 OK\r\n: x\r\n\r\n',
    'a bare LF ending a field line': 'HTTP/1.1 200 OK\r\nx: 1\ny: 2\r\n\r\n',
    'a bare LF ending the status line': 'HTTP/1.1 200 OK\nx: 1\r\n\r\n',
    'a control character in the status line': 'HTTP/1.1 200 O\x01K\r\n\r\n',
    'a control character in a value': 'HTTP/1.1 200 OK\r\nx: a\x01b\r\n\r\n',
    'a bare LF in a value': 'HTTP/1.1 200 OK\r\nx: a\nb\r\n\r\n',
    'a bare CR in a value': 'HTTP/1.1 200 OK\r\nx: a\rb\r\n\r\n',
    'a bare CR in the status line': 'HTTP/1.1 200 O\rK\r\n\r\n',
    'a vertical tab at the end of a value': 'HTTP/1.1 200 OK\r\nx: a\x0b\r\n\r\n',
    'a bad Content-Length': 'HTTP/1.1 200 OK\r\ncontent-length: 1x\r\n\r\n',
    'two Content-Lengths': 'HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 1\r\n\r\n',
    'both framings': 'HTTP/1.1 200 OK\r\ncontent-length: 1\r\ntransfer-encoding: chunked\r\n\r\n',
  };
  for (const [name, text] of Object.entries(malformed)) it(`malformed: ${name}`, () => assert.equal(parse(text).kind, 'malformed'));

  it('refuses a head larger than the limit, complete or not', () => {
    const big = `HTTP/1.1 200 OK\r\nx: ${'a'.repeat(MAX)}\r\n\r\n`;
    assert.equal(parse(big).kind, 'malformed');
    assert.equal(parse(big.slice(0, MAX + 10)).kind, 'malformed');
  });
});

describe('ChunkedBodyEnd', () => {
  const body = '5;ext=1\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\ntrailer: x\r\n\r\n';

  it('finds the end of a chunked body in one piece, ignoring what follows', () => {
    const scanner = new ChunkedBodyEnd();
    assert.equal(scanner.scan(Buffer.from(`${body}HTTP/1.1 200 OK`, 'latin1')), body.length);
  });

  it('finds it across pieces split at every byte', () => {
    for (let cut = 1; cut < body.length; cut++) {
      const scanner = new ChunkedBodyEnd();
      assert.equal(scanner.scan(Buffer.from(body.slice(0, cut), 'latin1')), -1, `cut at ${cut}`);
      assert.equal(scanner.scan(Buffer.from(body.slice(cut), 'latin1')), body.length - cut, `cut at ${cut}`);
    }
  });

  it('throws on a bad chunk size or an endless size line', () => {
    assert.throws(() => new ChunkedBodyEnd().scan(Buffer.from('zz\r\n', 'latin1')), /chunk size/);
    assert.throws(() => new ChunkedBodyEnd().scan(Buffer.from('1'.repeat(5000), 'latin1')), /line too long/);
  });
});
