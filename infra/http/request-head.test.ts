import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRequestHead } from './request-head.js';

const MAX = 16 * 1024;
const parse = (text: string) => parseRequestHead(Buffer.from(text, 'latin1'), MAX);

describe('parseRequestHead', () => {
  it('reads a simple GET: method, target, lower-cased fields with OWS trimmed, and its length', () => {
    const text = 'GET /vod/a/720p/seg-00001.ts?token=x HTTP/1.1\r\nHost: edge\r\nUser-Agent:  hls.js \t\r\nAccept: */*\r\n\r\n';
    const parsed = parse(`${text}GET /next HTTP/1.1\r\n`);
    assert.equal(parsed.kind, 'simple');
    if (parsed.kind !== 'simple') return;
    assert.equal(parsed.head.method, 'GET');
    assert.equal(parsed.head.target, '/vod/a/720p/seg-00001.ts?token=x');
    assert.deepEqual([...parsed.head.headers], [['host', 'edge'], ['user-agent', 'hls.js'], ['accept', '*/*']]);
    assert.equal(parsed.head.length, Buffer.byteLength(text), 'the pipelined request after it is not consumed');
  });

  it('hands on the previous head’s field map when the fields are the same bytes, and reads changed ones', () => {
    const first = parse('GET /a HTTP/1.1\r\nHost: e\r\nX-Id: 1\r\n\r\n');
    assert.equal(first.kind, 'simple');
    if (first.kind !== 'simple') return;
    const text = 'HEAD /b?q=1 HTTP/1.1\r\nHost: e\r\nX-Id: 1\r\n\r\n';
    const again = parseRequestHead(Buffer.from(text, 'latin1'), MAX, first.head);
    assert.equal(again.kind, 'simple');
    if (again.kind !== 'simple') return;
    assert.equal(again.head.headers, first.head.headers, 'the same map');
    assert.deepEqual([again.head.method, again.head.target, again.head.length], ['HEAD', '/b?q=1', text.length]);
    const changed = parseRequestHead(Buffer.from('GET /c HTTP/1.1\r\nHost: e\r\nX-Id: 2\r\n\r\n', 'latin1'), MAX, first.head);
    assert.equal(changed.kind, 'simple');
    if (changed.kind !== 'simple') return;
    assert.notEqual(changed.head.headers, first.head.headers);
    assert.equal(changed.head.headers.get('x-id'), '2');
    // The request line is still checked when the fields are the same.
    assert.equal(parseRequestHead(Buffer.from('GET /c HTTP/1.0\r\nHost: e\r\nX-Id: 1\r\n\r\n', 'latin1'), MAX, first.head).kind, 'other');
  });

  it('keeps its own copy of the field bytes, not the read buffer', () => {
    const buffer = Buffer.from('GET /a HTTP/1.1\r\nHost: e\r\n\r\n', 'latin1');
    const parsed = parseRequestHead(buffer, MAX);
    assert.equal(parsed.kind, 'simple');
    if (parsed.kind !== 'simple') return;
    buffer.fill(0);
    assert.equal(parsed.head.fieldBlock.toString('latin1'), 'Host: e\r\n');
  });

  it('reads HEAD, an empty field value and Connection: keep-alive', () => {
    const parsed = parse('HEAD / HTTP/1.1\r\nhost: e\r\nx-empty:\r\nConnection: Keep-Alive\r\n\r\n');
    assert.equal(parsed.kind, 'simple');
    if (parsed.kind === 'simple') {
      assert.equal(parsed.head.method, 'HEAD');
      assert.equal(parsed.head.headers.get('x-empty'), '');
    }
  });

  const incomplete: [string, string][] = [
    ['nothing yet', ''],
    ['a request line only', 'GET / HTTP/1.1\r\n'],
    ['fields without the blank line', 'GET / HTTP/1.1\r\nHost: e\r\n'],
  ];
  for (const [name, text] of incomplete) it(`incomplete: ${name}`, () => assert.equal(parse(text).kind, 'incomplete'));

  // Each of these goes to node:http, which answers or rejects it; the fast path never guesses.
  const other: [string, string][] = [
    ['another method', 'POST / HTTP/1.1\r\nHost: e\r\n\r\n'],
    ['a lower-case method', 'get / HTTP/1.1\r\nHost: e\r\n\r\n'],
    ['HTTP/1.0', 'GET / HTTP/1.0\r\nHost: e\r\n\r\n'],
    ['absolute-form target', 'GET http://e/ HTTP/1.1\r\nHost: e\r\n\r\n'],
    ['asterisk-form target', 'GET * HTTP/1.1\r\nHost: e\r\n\r\n'],
    ['two spaces in the request line', 'GET  / HTTP/1.1\r\nHost: e\r\n\r\n'],
    ['a non-ASCII byte in the target', 'GET /caf\xe9 HTTP/1.1\r\nHost: e\r\n\r\n'],
    ['no Host', 'GET / HTTP/1.1\r\nAccept: */*\r\n\r\n'],
    ['two Hosts', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
    ['a repeated field', 'GET / HTTP/1.1\r\nHost: e\r\nAccept: a\r\naccept: b\r\n\r\n'],
    ['Content-Length (a body)', 'GET / HTTP/1.1\r\nHost: e\r\nContent-Length: 5\r\n\r\nhello'],
    ['Content-Length: 0', 'GET / HTTP/1.1\r\nHost: e\r\nContent-Length: 0\r\n\r\n'],
    ['Transfer-Encoding', 'GET / HTTP/1.1\r\nHost: e\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['Connection: close', 'GET / HTTP/1.1\r\nHost: e\r\nConnection: close\r\n\r\n'],
    ['Connection: upgrade', 'GET / HTTP/1.1\r\nHost: e\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'],
    ['Expect', 'GET / HTTP/1.1\r\nHost: e\r\nExpect: 100-continue\r\n\r\n'],
    ['a bare LF line end', 'GET / HTTP/1.1\nHost: e\r\n\r\n'],
    ['a bare LF inside the fields', 'GET / HTTP/1.1\r\nHost: e\nX-Smuggled: 1\r\n\r\n'],
    ['a bare CR inside a value', 'GET / HTTP/1.1\r\nHost: e\rX: 1\r\n\r\n'],
    ['a folded field (obs-fold)', 'GET / HTTP/1.1\r\nHost: e\r\nX-Long: a\r\n  b\r\n\r\n'],
    ['space before the colon', 'GET / HTTP/1.1\r\nHost : e\r\n\r\n'],
    ['no colon', 'GET / HTTP/1.1\r\nHost e\r\n\r\n'],
    ['an empty field name', 'GET / HTTP/1.1\r\n: e\r\nHost: e\r\n\r\n'],
    ['a NUL in a value', 'GET / HTTP/1.1\r\nHost: e\0\r\n\r\n'],
    ['obs-text in a value', 'GET / HTTP/1.1\r\nHost: e\r\nX: caf\xe9\r\n\r\n'],
  ];
  for (const [name, text] of other) it(`other: ${name}`, () => assert.equal(parse(text).kind, 'other'));

  it('other: a head longer than the limit, complete or not', () => {
    const huge = `GET / HTTP/1.1\r\nHost: e\r\nX-Big: ${'a'.repeat(MAX)}\r\n\r\n`;
    assert.equal(parse(huge).kind, 'other');
    assert.equal(parse(huge.slice(0, MAX + 10)).kind, 'other');
  });

  it('reads long runs of spaces in linear time (no regex backtracking)', () => {
    // Quadratic scanning of a 16 KB run would take seconds; this must return at once.
    const spaces = ' '.repeat(MAX - 100);
    const started = performance.now();
    assert.equal(parse(`GET / HTTP/1.1\r\nHost: e\r\nX: a${spaces}\x01\r\n\r\n`).kind, 'other');
    assert.equal(parse(`GET / HTTP/1.1\r\nHost: e\r\nX: a${spaces}b\r\n\r\n`).kind, 'simple');
    assert.ok(performance.now() - started < 1000, 'parsing took over a second');
  });
});
