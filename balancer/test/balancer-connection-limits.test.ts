// Hostile viewers' connections at the balancer (issue 11, "Unbounded resources"): slow heads,
// viewers that stop reading a proxied stream, and more connections than allowed, on real sockets.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { openRawClient as open } from '../../infra/testing/raw-client.js';
import { waitUntil } from '../../infra/testing/wait-for.js';
import type { BalancerOptions } from '../balancer-wiring.js';
import type { StandInEdge } from './stand-in-edge.js';
import { edgeNode, startBalancer } from './test-balancer.js';

const LARGE = Buffer.alloc(24 * 1024 * 1024, 5);


describe('balancer viewer connection limits', () => {
  // An edge serving one large segment, for the proxy front to stream.
  let edgeServer: Server;
  let edge: StandInEdge;
  const started: { close(): Promise<void> }[] = [];
  before(async () => {
    edgeServer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': String(LARGE.length), 'x-served-by': 'edge-big' });
      res.end(LARGE);
    });
    await new Promise<void>((resolve) => edgeServer.listen(0, '127.0.0.1', resolve));
    edge = { id: 'edge-big', url: `http://127.0.0.1:${(edgeServer.address() as AddressInfo).port}` } as StandInEdge;
  });
  after(async () => {
    await Promise.all(started.map((b) => b.close()));
    edgeServer.closeAllConnections();
    await new Promise((resolve) => edgeServer.close(resolve));
  });

  async function balancerWith(connections: BalancerOptions['connections']) {
    const b = await startBalancer('proxy', [edgeNode(edge, 'us-east', 39, -77)], { connections });
    started.push(b);
    const metric = async (pattern: RegExp): Promise<number> => Number(pattern.exec(await b.balancer.metrics.registry.metrics())?.[1] ?? 0);
    return { ...b, metric };
  }

  it('closes a connection that sends half a request head within the header timeout (408)', async () => {
    const b = await balancerWith({ headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const half = await open(b.url);
    half.socket.write('GET /healthz HTTP/1.1\r\nHo');
    const ms = await half.closed;
    assert.ok(ms >= 250 && ms < 3000, `closed after ${Math.round(ms)} ms`);
    assert.match(half.received().toString('latin1'), /^HTTP\/1\.1 408 /);
  });

  it('cuts a viewer that never reads a proxied stream after the write timeout', async () => {
    const b = await balancerWith({ writeTimeoutMs: 400 });
    const stalled = await open(b.url, { paused: true });
    stalled.socket.write('GET /vod/big/720p/seg-00000.ts HTTP/1.1\r\nHost: b\r\n\r\n');
    await waitUntil('write timeout counted', async () => (await b.metric(/^streamedge_balancer_write_timeouts_total (\d+)/m)) === 1, 5000);
    await waitUntil('connection released', async () => (await b.metric(/^streamedge_balancer_open_connections (\d+)/m)) === 0, 2000);
    stalled.socket.resume();
    await stalled.closed;
  });

  it('refuses connections beyond the per-process and per-address caps with 503 and Retry-After', async () => {
    const b = await balancerWith({ maxConnections: 2, maxConnectionsPerIp: 1 });
    const first = await open(b.url);
    await waitUntil('one open', async () => (await b.metric(/^streamedge_balancer_open_connections (\d+)/m)) === 1, 2000);
    const sameAddress = await open(b.url);
    await sameAddress.closed;
    assert.match(sameAddress.received().toString('latin1'), /^HTTP\/1\.1 503 [^]*retry-after: 1/i);
    const other = await open(b.url, { localAddress: '127.0.0.2' });
    await waitUntil('two open', async () => (await b.metric(/^streamedge_balancer_open_connections (\d+)/m)) === 2, 2000);
    const third = await open(b.url, { localAddress: '127.0.0.3' });
    await third.closed;
    assert.match(third.received().toString('latin1'), /^HTTP\/1\.1 503 /);
    assert.equal(await b.metric(/^streamedge_balancer_rejected_connections_total\{reason="max-connections-per-ip"\} (\d+)/m), 1);
    assert.equal(await b.metric(/^streamedge_balancer_rejected_connections_total\{reason="max-connections"\} (\d+)/m), 1);
    first.socket.destroy();
    other.socket.destroy();
  });
});
