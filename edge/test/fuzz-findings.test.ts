// What the HTTP fuzzer found at the edge (issue 11, item 6), each pinned on a real socket: replies
// to unparseable bytes kept behind the responses owed before them, no framing on a 204, and no
// response cut by closing on a request body nobody read or on a client's half-close.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { openRawClient as open, rawExchange } from '../../infra/testing/raw-client.js';
import { readResponses, responseField } from '../../infra/testing/http-response-reader.js';
import { createEdge, type Edge } from '../edge-server.js';
import { object, startTestOrigin, type TestOrigin } from './test-origin.js';

const BIG = Buffer.alloc(4 * 1024 * 1024, 3);
const SMALL = Buffer.from('small object');

describe('edge: fuzz findings', () => {
  let origin: TestOrigin;
  let edge: Edge;
  let url: string;
  before(async () => {
    origin = await startTestOrigin();
    origin.route('/vod/f/big.ts', object(BIG, 'public, max-age=600'));
    origin.route('/vod/f/small.ts', object(SMALL, 'public, max-age=600'));
    // A miss the origin answers late, so the edge still owes its response when the bad bytes come.
    const slow = object(Buffer.from('slow object'), 'public, max-age=600');
    origin.route('/vod/f/slow.ts', (req, res) => void setTimeout(() => slow(req, res), 300));
    edge = createEdge({ id: 'edge-fuzz-findings', logger: pino({ level: 'silent' }), cacheBytes: 64 << 20, maxObjectBytes: 32 << 20, originUrls: [origin.url], fastHits: false });
    url = await edge.listen(0, '127.0.0.1');
    await (await fetch(`${url}/vod/f/big.ts`)).arrayBuffer();
  });
  after(async () => {
    await edge.close(500);
    await origin.close();
  });

  const exchange = (bytes: string, methods: string[], halfClose = false) => rawExchange(url, bytes, methods, halfClose);

  it('answers unparseable bytes after the responses owed to the requests pipelined before them', async () => {
    const read = await exchange('GET /vod/f/slow.ts HTTP/1.1\r\nHost: e\r\n\r\nGET /vod/f/small.ts HTTP/1.1\r\nHost: e\r\n\r\nG\x00T / HTTP/1.1\r\n\r\n', ['GET', 'GET', 'GET']);
    assert.equal(read.kind, 'complete', JSON.stringify(read));
    assert.deepEqual(read.responses.map((response) => response.status), [200, 200, 400]);
    assert.equal(read.responses[0]!.body.toString(), 'slow object');
    assert.ok(read.responses[1]!.body.equals(SMALL));
  });

  it('answers a pipelined CONNECT after the responses owed before it', async () => {
    const read = await exchange('GET /vod/f/slow.ts?2 HTTP/1.1\r\nHost: e\r\n\r\nCONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n', ['GET', 'CONNECT']);
    assert.equal(read.kind, 'complete', JSON.stringify(read));
    assert.deepEqual(read.responses.map((response) => response.status), [200, 405]);
  });

  it('sends nothing after a response that closed the connection, whatever bytes follow it', async () => {
    const read = await exchange('POST /metrics#x HTTP/1.1\r\nHost: e\r\nTransfer-Encoding: identity\r\nConnection: close\r\n\r\n5\nhello\n0\n\n', ['POST', 'GET']);
    assert.equal(read.kind, 'complete', JSON.stringify(read));
    assert.deepEqual(read.responses.map((response) => response.status), [400]);
  });

  it('answers a CORS preflight 204 without Content-Length (RFC 9110 §8.6)', async () => {
    const read = await exchange('OPTIONS /vod/f/small.ts HTTP/1.1\r\nHost: e\r\nConnection: close\r\n\r\n', ['OPTIONS']);
    assert.equal(read.kind, 'complete');
    assert.equal(read.responses[0]!.status, 204);
    assert.equal(responseField(read.responses[0]!, 'content-length'), undefined);
  });

  it('delivers a whole response that closes the connection while the client still sends a body nobody reads', async () => {
    // The client reads late, so the response's tail is still queued in the edge's kernel when the
    // edge closes; unread body bytes at that moment would turn the close into a reset that drops it.
    const client = await open(url, { paused: true });
    const chunks: Buffer[] = [];
    client.socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    client.socket.pause();
    client.socket.write(`GET /vod/f/big.ts HTTP/1.1\r\nHost: e\r\nContent-Length: 3000000\r\nConnection: close\r\n\r\n`);
    const chunk = Buffer.alloc(60_000, 120);
    let sent = 0;
    const sending = setInterval(() => {
      if (client.socket.writable && sent < 3_000_000) client.socket.write(chunk);
      sent += chunk.length;
    }, 5);
    setTimeout(() => client.socket.resume(), 400);
    await client.closed;
    clearInterval(sending);
    const read = readResponses(Buffer.concat(chunks), ['GET'], true);
    assert.equal(read.kind, 'complete', `${read.kind}: ${Buffer.concat(chunks).length} bytes`);
    assert.ok(read.responses[0]!.body.equals(BIG));
  });

  it('finishes a response streaming through node:http when the client half-closes after its request', async () => {
    const read = await exchange('GET /vod/f/big.ts HTTP/1.1\r\nHost: e\r\nRange: bytes=0-\r\n\r\n', ['GET'], true);
    assert.equal(read.kind, 'complete', JSON.stringify(read.kind));
    assert.equal(read.responses[0]!.status, 206);
    assert.ok(read.responses[0]!.body.equals(BIG));
  });
});
