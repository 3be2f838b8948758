import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { startSyntheticViewer, type SyntheticViewerOptions, type ViewerRequest } from './synthetic-viewer.js';

const SEGMENT = Buffer.alloc(2000, 7);
const SEGMENT_ETAG = `"${createHash('sha256').update(SEGMENT).digest('hex')}"`;
const MEDIA = '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:0.5,\ns0.ts\n#EXTINF:0.5,\ns1.ts\n#EXTINF:0.5,\ns2.ts\n#EXT-X-ENDLIST\n';

interface EdgeBehaviour {
  segments: 'ok' | 'fail' | 'corrupt' | 'slow';
}

/** An in-process "edge" serving one VOD rendition; how it answers segments can change mid-test. */
async function startEdge(t: TestContext, behaviour: EdgeBehaviour): Promise<string> {
  const server: Server = createServer((request, response) => {
    if (request.url?.endsWith('.m3u8')) return void response.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end(MEDIA);
    if (behaviour.segments === 'fail') return void response.writeHead(503).end();
    const body = behaviour.segments === 'corrupt' ? Buffer.alloc(SEGMENT.length, 9) : SEGMENT;
    const send = (): void => void response.writeHead(200, { etag: SEGMENT_ETAG, 'content-length': body.length }).end(body);
    if (behaviour.segments === 'slow') setTimeout(send, 1500);
    else send();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The balancer's part: a steered master naming both edges, edge-a first. */
async function startBalancer(t: TestContext, edges: Record<string, string>): Promise<string> {
  const server = createServer((_request, response) => {
    const lines = ['#EXTM3U'];
    for (const [id, url] of Object.entries(edges)) lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=1000,STABLE-VARIANT-ID="v",PATHWAY-ID="${id}"`, `${url}/vod/a/v/index.m3u8`);
    response.writeHead(200).end(`${lines.join('\n')}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/vod/a/master.m3u8`;
}

const OPTIONS: Omit<SyntheticViewerOptions, 'id' | 'masterUrl'> = { maxBufferSeconds: 1, requestTimeoutMs: 1000, maxAttempts: 3, pathwayPenaltyMs: 60_000 };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('a viewer plays in real time, and moves to the next pathway when its edge fails', async (t) => {
  const a: EdgeBehaviour = { segments: 'ok' };
  const edges = { 'edge-a': await startEdge(t, a), 'edge-b': await startEdge(t, { segments: 'ok' }) };
  const viewer = startSyntheticViewer({ id: 'v', masterUrl: await startBalancer(t, edges), ...OPTIONS });
  t.after(() => viewer.stop());
  await sleep(600);
  assert.equal(viewer.stats().pathway, 'edge-a');
  a.segments = 'fail';
  await sleep(1200);
  const stats = await viewer.stop();
  assert.equal(stats.pathway, 'edge-b');
  assert.ok(stats.failed >= 1 && stats.retried >= 1, JSON.stringify(stats));
  assert.equal(stats.lost, 0);
  // The buffer is bounded (1 s of 0.5 s segments) and drained by the clock: about 2 segments a second, never all at once.
  assert.ok(stats.segments >= 3 && stats.segments <= 8, `${stats.segments} segments in 1.8 s`);
  assert.equal(stats.pathwaySwitches, 1);
});

test('a viewer reports each request as it ends: its kind, time to headers, and whether it failed', async (t) => {
  const a: EdgeBehaviour = { segments: 'ok' };
  const requests: ViewerRequest[] = [];
  const viewer = startSyntheticViewer({ id: 'v', masterUrl: await startBalancer(t, { 'edge-a': await startEdge(t, a) }), ...OPTIONS, onRequest: (request) => requests.push(request) });
  t.after(() => viewer.stop());
  await sleep(600);
  a.segments = 'fail';
  const failingFrom = Date.now();
  await sleep(800);
  const stats = await viewer.stop();
  assert.deepEqual(new Set(requests.map((request) => request.kind)), new Set(['master', 'playlist', 'segment']));
  const failed = requests.filter((request) => !request.ok);
  assert.equal(failed.length, stats.failed);
  assert.ok(failed.length >= 1 && failed.every((request) => request.kind === 'segment' && request.endedAt >= failingFrom), JSON.stringify(failed));
  // Each failure names its request and why: the edge answered 503.
  assert.ok(failed.every((request) => request.failure === '503' && /\/vod\/a\/v\/s\d\.ts$/.test(request.url)), JSON.stringify(failed));
  assert.ok(requests.filter((request) => request.ok).every((request) => request.failure === undefined));
  // A 503 still answered: its headers were timed.
  for (const request of requests) {
    assert.ok(request.ttfbMs !== undefined && request.ttfbMs >= 0 && request.ttfbMs <= request.endedAt - request.startedAt, JSON.stringify(request));
  }
  // Only requests cut by stop() go unreported: at most one per loop (playlist, segment).
  assert.ok(stats.requests - requests.length >= 0 && stats.requests - requests.length <= 2, `${stats.requests} requests, ${requests.length} reported`);
});

test('a failed request tells why: no answer within the timeout, or the network error\'s code', async (t) => {
  const requests: ViewerRequest[] = [];
  const slow = startSyntheticViewer({ id: 'slow', masterUrl: await startBalancer(t, { 'edge-a': await startEdge(t, { segments: 'slow' }) }), ...OPTIONS, onRequest: (request) => requests.push(request) });
  t.after(() => slow.stop());
  // A port nothing listens on: the master request is refused.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const refused = startSyntheticViewer({ id: 'refused', masterUrl: `http://127.0.0.1:${closedPort}/vod/a/master.m3u8`, ...OPTIONS, onRequest: (request) => requests.push(request) });
  t.after(() => refused.stop());
  await sleep(1400);
  await Promise.all([slow.stop(), refused.stop()]);
  const reasons = new Set(requests.filter((request) => !request.ok).map((request) => `${request.kind} ${request.failure}`));
  assert.ok(reasons.has('segment no answer within 1000 ms'), [...reasons].join('; '));
  assert.ok(reasons.has('master fetch failed: ECONNREFUSED'), [...reasons].join('; '));
});

test('bytes that do not match their ETag count as corrupt, and a segment that comes late stalls playback', async (t) => {
  const a: EdgeBehaviour = { segments: 'corrupt' };
  const viewer = startSyntheticViewer({ id: 'v', masterUrl: await startBalancer(t, { 'edge-a': await startEdge(t, a) }), ...OPTIONS, maxAttempts: 2 });
  t.after(() => viewer.stop());
  await sleep(400);
  const corrupt = viewer.stats();
  assert.ok(corrupt.corrupt >= 1 && corrupt.failed >= corrupt.corrupt, JSON.stringify(corrupt));
  assert.equal(corrupt.segments, 0);
  assert.equal(corrupt.startupMs, undefined);
  a.segments = 'ok';
  await sleep(1200);
  assert.ok(viewer.stats().segments > 0);
  a.segments = 'slow';
  await sleep(2500);
  const stalled = await viewer.stop();
  assert.ok(stalled.stalls >= 1 && stalled.stallMs >= 300, JSON.stringify(stalled));
});

test('a viewer refuses options it cannot honour', () => {
  assert.throws(() => startSyntheticViewer({ id: 'v', masterUrl: 'not a url', ...OPTIONS }), /masterUrl/);
  assert.throws(() => startSyntheticViewer({ id: 'v', masterUrl: 'http://x/', ...OPTIONS, maxAttempts: 0 }), /maxAttempts/);
  assert.throws(() => startSyntheticViewer({ id: 'v', masterUrl: 'http://x/', ...OPTIONS, localAddress: '10.77.102' }), /localAddress must be an IPv4 address/);
});

test('a viewer given a local address makes every request from it (a viewer of that region in hosts mode)', async (t) => {
  const seen = new Set<string>();
  const edge = await startEdge(t, { segments: 'ok' });
  const server = createServer((request, response) => {
    seen.add(request.socket.remoteAddress ?? '');
    void fetch(`${edge}${request.url}`).then(async (answer) => {
      response.writeHead(answer.status, { etag: answer.headers.get('etag') ?? '' }).end(Buffer.from(await answer.arrayBuffer()));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const front = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const viewer = startSyntheticViewer({ id: 'v', masterUrl: await startBalancer(t, { 'edge-a': front }), ...OPTIONS, localAddress: '127.0.0.2' });
  t.after(() => viewer.stop());
  await sleep(800);
  const stats = await viewer.stop();
  assert.ok(stats.segments >= 1, JSON.stringify(stats));
  assert.deepEqual([...seen], ['127.0.0.2']);
});
