// The proxy front against an in-process edge whose answers each test writes: what is forwarded
// each way, and what happens when the viewer or the edge goes away mid-response.
import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { waitUntil } from '../../infra/testing/wait-for.js';
import { get } from './http-test-client.js';
import { edgeNode, startBalancer } from './test-balancer.js';
import type { StandInEdge } from './stand-in-edge.js';

describe('proxy front', () => {
  let answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  const seen: IncomingHttpHeaders[] = [];
  let edgeServer: Server;
  let b: Awaited<ReturnType<typeof startBalancer>>;
  const metric = async (pattern: RegExp): Promise<number> => Number(pattern.exec(await b.balancer.metrics.registry.metrics())?.[1] ?? NaN);

  before(async () => {
    edgeServer = createServer((req, res) => {
      seen.push(req.headers);
      answer(req, res);
    });
    await new Promise<void>((resolve) => edgeServer.listen(0, '127.0.0.1', resolve));
    const edge = { id: 'edge-p', url: `http://127.0.0.1:${(edgeServer.address() as AddressInfo).port}` } as StandInEdge;
    b = await startBalancer('proxy', [edgeNode(edge, 'us-east', 39, -77)]);
  });
  after(async () => {
    await b.close();
    edgeServer.closeAllConnections();
    await new Promise((resolve) => edgeServer.close(resolve));
  });

  it('drops hop-by-hop fields both ways, including those Connection names', async () => {
    answer = (_req, res) => {
      // Chunked, so the edge may announce a trailer.
      res.writeHead(200, { connection: 'x-edge-private', 'x-edge-private': 'secret', trailer: 'x-checksum', 'x-served-by': 'edge-p' });
      res.addTrailers({ 'x-checksum': 'abc' });
      res.end('ok');
    };
    const reply = await get(`${b.url}/vod/demo-ts/720p/index.m3u8`, {
      headers: { connection: 'keep-alive, x-viewer-private', 'x-viewer-private': '1', te: 'trailers', 'proxy-authorization': 'Basic eDp5', 'x-streamedge-region': 'us-east', 'x-forwarded-for': '6.6.6.6', accept: 'application/vnd.apple.mpegurl' },
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'ok');
    assert.equal(reply.headers['x-served-by'], 'edge-p');
    assert.equal(reply.headers['x-edge-private'], undefined);
    assert.equal(reply.headers.trailer, undefined);
    const forwarded = seen.at(-1)!;
    for (const name of ['x-viewer-private', 'te', 'proxy-authorization', 'x-streamedge-region']) assert.equal(forwarded[name], undefined, name);
    assert.equal(forwarded.accept, 'application/vnd.apple.mpegurl');
    assert.equal(forwarded['x-forwarded-for'], '127.0.0.1', 'an untrusted peer’s X-Forwarded-For is replaced');
    assert.equal(forwarded.host, new URL(`http://127.0.0.1:${(edgeServer.address() as AddressInfo).port}`).host, 'Host is the edge’s');
  });

  it('answers HEAD with the edge’s length and no body', async () => {
    answer = (_req, res) => {
      res.writeHead(200, { 'content-length': '4096', 'content-type': 'video/mp2t' });
      res.end();
    };
    const reply = await get(`${b.url}/vod/demo-ts/720p/seg-00001.ts`, { method: 'HEAD' });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-length'], '4096');
    assert.equal(reply.body, '');
  });

  it('stops the edge request when the viewer hangs up mid-body, and counts it', async () => {
    let edgeRequestClosed = false;
    answer = (req, res) => {
      res.writeHead(200, { 'content-length': String(64 * 1024 * 1024), 'content-type': 'video/mp2t' });
      res.write(Buffer.alloc(64 * 1024, 1));
      // The rest never comes: only the viewer hanging up ends this response.
      req.socket.once('close', () => (edgeRequestClosed = true));
    };
    const before = (await metric(/^streamedge_balancer_requests_total\{front="proxy",outcome="client-closed"\} (\d+)/m)) || 0;
    await new Promise<void>((resolve, reject) => {
      const viewer = request(`${b.url}/vod/demo-ts/720p/seg-00002.ts`, (res) => {
        res.once('data', () => {
          viewer.destroy();
          resolve();
        });
      });
      viewer.on('error', (error) => (error.message === 'socket hang up' ? undefined : reject(error)));
      viewer.end();
    });
    await waitUntil('edge request closed', async () => edgeRequestClosed, 3000);
    await waitUntil('client-closed counted', async () => (await metric(/^streamedge_balancer_requests_total\{front="proxy",outcome="client-closed"\} (\d+)/m)) === before + 1, 3000);
  });

  it('cuts the viewer’s response when the edge’s body stops short, and counts it', async () => {
    answer = (_req, res) => {
      res.writeHead(200, { 'content-length': '100000', 'content-type': 'video/mp2t' });
      res.write(Buffer.alloc(1000, 2), () => res.socket?.destroy());
    };
    const received = await new Promise<{ bytes: number; complete: boolean }>((resolve, reject) => {
      const viewer = request(`${b.url}/vod/demo-ts/720p/seg-00003.ts`, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () => resolve({ bytes, complete: res.complete }));
        res.on('error', () => resolve({ bytes, complete: false }));
        res.on('aborted', () => resolve({ bytes, complete: false }));
      });
      viewer.on('error', reject);
      viewer.end();
    });
    assert.equal(received.complete, false);
    assert.ok(received.bytes < 100000, `${received.bytes} bytes`);
    assert.equal(await metric(/^streamedge_balancer_requests_total\{front="proxy",outcome="upstream-error"\} (\d+)/m), 1);
    assert.equal(b.balancer.health.health('edge-p').state, 'healthy', 'a cut body ends that response, it does not eject an edge that answered');
  });

  it('shows its kept-alive connections to edges, and requests waiting for one, in /metrics', async () => {
    answer = (_req, res) => res.end('ok');
    assert.equal((await get(`${b.url}/vod/demo-ts/720p/index.m3u8`)).status, 200);
    assert.ok((await metric(/^streamedge_balancer_proxy_edge_connections (\d+)/m)) >= 1);
    assert.equal(await metric(/^streamedge_balancer_proxy_queued_requests (\d+)/m), 0);
  });
});
