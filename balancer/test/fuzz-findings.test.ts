// What the HTTP fuzzer found at the balancer (issue 11, item 6), each pinned on a real socket:
// replies to unparseable bytes kept behind the responses owed before them and bodiless (the request
// may be a HEAD), no framing on a 204, a proxied stream finished for a client that half-closes, and
// an edge that resets one viewer's request probed rather than ejected, and pipelined requests whose
// viewer went let go of their edge connections.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { openRawClient, rawExchange } from '../../infra/testing/raw-client.js';
import { waitUntil } from '../../infra/testing/wait-for.js';
import { responseField } from '../../infra/testing/http-response-reader.js';
import type { StandInEdge } from './stand-in-edge.js';
import { edgeNode, startBalancer } from './test-balancer.js';

const BIG = Buffer.alloc(4 * 1024 * 1024, 9);

describe('balancer: fuzz findings', () => {
  let edgeServer: Server;
  let balancer: Awaited<ReturnType<typeof startBalancer>>;
  const resetOnce = new Set<string>();
  let pipelinedOpen = 0;
  // The fast path's pipelined requests: how many reached the edge, on which connections.
  let pipelinedRequests = 0;
  const pipelinedConnections = new Set<Socket>();
  before(async () => {
    // An edge that streams a large segment in pieces, answers one path late, and resets another.
    edgeServer = createServer((req, res) => {
      if (req.url === '/healthz') return void res.end('ok');
      if (req.url?.startsWith('/vod/reset/')) return void req.socket.resetAndDestroy();
      // Resets the first request for each path, as an edge closing an idle pooled connection would.
      if (req.url?.startsWith('/vod/once/') && !resetOnce.has(req.url)) {
        resetOnce.add(req.url);
        return void req.socket.resetAndDestroy();
      }
      if (req.url?.startsWith('/vod/slow/')) return void setTimeout(() => res.end('slow'), 300);
      if (req.url === '/vod/pipelined/720p/seg-00001.ts') {
        pipelinedRequests++;
        pipelinedConnections.add(req.socket);
      } else if (req.url?.startsWith('/vod/pipelined/')) {
        pipelinedOpen++;
        res.once('close', () => pipelinedOpen--);
      }
      res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': String(BIG.length) });
      let at = 0;
      const next = (): void => {
        if (at >= BIG.length) return void res.end();
        res.write(BIG.subarray(at, (at += 256 * 1024)));
        setTimeout(next, 10);
      };
      next();
    });
    await new Promise<void>((resolve) => edgeServer.listen(0, '127.0.0.1', resolve));
    const edge = { id: 'edge-stream', url: `http://127.0.0.1:${(edgeServer.address() as AddressInfo).port}` } as StandInEdge;
    balancer = await startBalancer('proxy', [edgeNode(edge, 'us-east', 39, -77)]);
  });
  after(async () => {
    await balancer.close();
    edgeServer.closeAllConnections();
    await new Promise((resolve) => edgeServer.close(resolve));
  });

  const exchange = (bytes: string, methods: string[], halfClose = false) => rawExchange(balancer.url, bytes, methods, halfClose);

  it('answers unparseable bytes after the responses owed to the requests pipelined before them', async () => {
    const read = await exchange('GET /vod/slow/720p/seg-00000.ts HTTP/1.1\r\nHost: b\r\n\r\nGET /healthz HTTP/1.1\r\nHost: b\r\n\r\nGET\t/ HTTP/1.1\r\n\r\n', ['GET', 'GET', 'GET']);
    assert.equal(read.kind, 'complete', JSON.stringify(read));
    assert.deepEqual(read.responses.map((response) => response.status), [200, 200, 400]);
    assert.equal(read.responses[0]!.body.toString(), 'slow');
  });

  it('answers a malformed HEAD with a bodiless 400', async () => {
    const read = await exchange('HEAD /vod/x/720p/seg-00000.ts HTTP/1.1\r\nHost: b\r\nX-Bad: a\x00b\r\n\r\n', ['HEAD']);
    assert.equal(read.kind, 'complete', JSON.stringify(read));
    assert.equal(read.responses[0]!.status, 400);
    assert.equal(responseField(read.responses[0]!, 'content-length'), '0');
  });

  it('answers a CORS preflight 204 without Content-Length (RFC 9110 §8.6)', async () => {
    const read = await exchange('OPTIONS /catalog.json HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n', ['OPTIONS']);
    assert.equal(read.kind, 'complete');
    assert.equal(read.responses[0]!.status, 204);
    assert.equal(responseField(read.responses[0]!, 'content-length'), undefined);
  });

  it('finishes a proxied stream for a client that half-closes after its request', async () => {
    const read = await exchange('GET /vod/big/720p/seg-00000.ts HTTP/1.1\r\nHost: b\r\n\r\n', ['GET'], true);
    assert.equal(read.kind, 'complete', read.kind);
    assert.ok(read.responses[0]!.body.equals(BIG));
  });

  it('keeps serving from an edge that reset one viewer request while its /healthz answers', async () => {
    await exchange('GET /vod/reset/720p/seg-00000.ts HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n', ['GET']);
    // The probe the reset triggered has time to answer.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(balancer.balancer.health.isAvailable('edge-stream'), true);
    const response = await fetch(`${balancer.url}/vod/slow/720p/seg-00001.ts`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'slow');
  });

  it('lets go of the edge for every pipelined request when their viewer goes without reading', async () => {
    const viewer = await openRawClient(balancer.url, { paused: true });
    // Content-Length: 0 takes node:http's path, which proxies pipelined requests at once.
    viewer.socket.write('GET /vod/pipelined/720p/seg-00000.ts HTTP/1.1\r\nHost: b\r\nContent-Length: 0\r\n\r\n'.repeat(6));
    // The answers queued behind the first have no socket of their own, and no 'close' of their own.
    await waitUntil('six proxied requests in flight', async () => pipelinedOpen === 6, 5000);
    viewer.socket.destroy();
    await waitUntil('every edge response abandoned', async () => pipelinedOpen === 0, 5000);
  });

  it('proxies plain pipelined GETs one at a time on the fast path, and lets go of the edge when their viewer goes', async () => {
    const viewer = await openRawClient(balancer.url, { paused: true });
    viewer.socket.write('GET /vod/pipelined/720p/seg-00001.ts HTTP/1.1\r\nHost: b\r\n\r\n'.repeat(6));
    await waitUntil('one request at the edge', async () => pipelinedConnections.size === 1, 5000);
    // The edge's whole answer fits in socket buffers, but the viewer has not read it: the next waits.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(pipelinedRequests, 1, 'the next request waits for the response before it');
    viewer.socket.destroy();
    await waitUntil('the edge connection let go', async () => [...pipelinedConnections].every((socket) => socket.destroyed), 5000);
  });

  it('tries the same edge once more when a GET is reset before any byte (only edge: no 502)', async () => {
    const response = await fetch(`${balancer.url}/vod/once/720p/seg-00000.ts`);
    assert.equal(response.status, 200);
    assert.ok(Buffer.from(await response.arrayBuffer()).equals(BIG));
  });
});
