import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { spawnStreamedge, type StreamedgeProcess } from '../../stack/streamedge-process.js';
import { waitFor } from '../../infra/testing/wait-for.js';
import { get } from './http-test-client.js';
import { STAND_IN_MASTER } from './stand-in-edge.js';

// Real edges in front of a slow origin, behind a real balancer: a slow origin must never get a
// healthy edge ejected (item 4 of issue 11), while an edge that really hangs or refuses still is.

const ORIGIN_DELAY_MS = 2_500;
const RESPONSE_TIMEOUT = '800ms';

/** An origin whose `slow-*` titles answer after ORIGIN_DELAY_MS, `glacial-*` after 6 s, `broken-*` with 500. */
async function startSlowOrigin(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const title = /^\/vod\/([a-z-]+?)(?:-\d+)?\//.exec(path)?.[1] ?? '';
    const body = path.endsWith('.m3u8') ? Buffer.from(STAND_IN_MASTER) : Buffer.alloc(2048, 7);
    const answer = (): void => {
      if (res.destroyed) return;
      if (title.startsWith('broken')) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('origin broke\n');
        return;
      }
      res.writeHead(200, { 'content-type': path.endsWith('.m3u8') ? 'application/vnd.apple.mpegurl' : 'video/mp2t', 'cache-control': 'public, max-age=300', 'content-length': String(body.length) });
      res.end(body);
    };
    const delay = title.startsWith('glacial') ? 6_000 : title.startsWith('slow') ? ORIGIN_DELAY_MS : 0;
    if (delay > 0) setTimeout(answer, delay).unref();
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

interface EdgeStatus {
  id: string;
  health: string;
  ejections: number;
}

async function edgeStates(balancerUrl: string): Promise<EdgeStatus[]> {
  return (JSON.parse((await get(`${balancerUrl}/status`)).body) as { edges: EdgeStatus[] }).edges;
}

async function metric(balancerUrl: string, pattern: RegExp): Promise<number> {
  const text = (await get(`${balancerUrl}/metrics`)).body;
  return [...text.matchAll(new RegExp(`^${pattern.source} (\\S+)$`, 'gm'))].reduce((sum, match) => sum + Number(match[1]), 0);
}

describe('the balancer blames the right party', { timeout: 120_000 }, () => {
  const children: StreamedgeProcess[] = [];
  let origin: { url: string; server: Server };
  let edges: StreamedgeProcess[];
  const spawn = async (args: string[]): Promise<StreamedgeProcess> => {
    const child = await spawnStreamedge(args);
    children.push(child);
    return child;
  };
  // edge-1 is weighted so it ranks first for every title: each request tries it before edge-2.
  const edgeSpecs = (): string[] => edges.flatMap((edge, i) => ['--edge', `${edge.url};id=edge-${i + 1};region=us-east;lat=39.04;lon=-77.49;weight=${i === 0 ? 1000 : 1}`]);
  const balancer = (mode: string, extra: string[] = []): Promise<StreamedgeProcess> =>
    spawn(['balancer', '--port', '0', '--mode', mode, ...edgeSpecs(), '--response-timeout', RESPONSE_TIMEOUT, '--eject-backoff', '30s', '--eject-max-backoff', '30s', ...extra]);

  before(async () => {
    origin = await startSlowOrigin();
    edges = [];
    for (const id of ['edge-1', 'edge-2']) {
      edges.push(await spawn(['edge', '--port', '0', '--id', id, '--origin', origin.url, '--workers', '1', '--cache-size', '32MB', '--prefetch', '0', '--hedge-delay', '0', '--drain-delay', '0']));
    }
  });
  after(async () => {
    await Promise.all(children.map((child) => child.stop(3_000)));
    origin.server.closeAllConnections();
    await new Promise((resolve) => origin.server.close(resolve));
  });

  it('proxy: a cold object on a slow origin is waited for, no edge is ejected, and cached titles keep playing meanwhile', async () => {
    const b = await balancer('proxy');
    assert.equal((await get(`${b.url}/vod/cached/240p/seg-00001.ts`)).status, 200);
    const started = Date.now();
    const slow = get(`${b.url}/vod/slow-a/240p/seg-00001.ts`);
    // While the edge waits on its origin, well past the response timeout, new viewers of a cached title get 200.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const meanwhile = await get(`${b.url}/vod/cached/240p/seg-00001.ts`);
    assert.equal(meanwhile.status, 200);
    assert.equal(meanwhile.headers['x-served-by'], 'edge-1');
    const reply = await slow;
    assert.equal(reply.status, 200, reply.body);
    assert.equal(reply.headers['x-served-by'], 'edge-1', 'the slow answer came from the edge that was waiting on it');
    assert.ok(Date.now() - started >= ORIGIN_DELAY_MS - 100);
    assert.deepEqual((await edgeStates(b.url)).map((edge) => [edge.id, edge.health, edge.ejections]), [['edge-1', 'healthy', 0], ['edge-2', 'healthy', 0]]);
    assert.equal(await metric(b.url, /streamedge_balancer_blamed_total\{party="edge",[^}]*\}/), 0);
  });

  it('proxy: an origin 5xx reaches the viewer marked as upstream, and blames no edge', async () => {
    const b = await balancer('proxy', ['--id', 'balancer-proxy-5xx']);
    const reply = await get(`${b.url}/vod/broken-a/240p/seg-00001.ts`);
    assert.equal(reply.status, 500);
    assert.equal(reply.headers['streamedge-upstream-fault'], 'http-5xx');
    assert.equal(reply.headers['x-served-by'], 'edge-1');
    assert.deepEqual((await edgeStates(b.url)).map((edge) => edge.health), ['healthy', 'healthy']);
    assert.equal(await metric(b.url, /streamedge_balancer_blamed_total\{party="upstream",reason="http-5xx"\}/), 1);
  });

  it('proxy: past the longest edge wait the viewer gets 504 edge-wait, and the live edge stays in', async () => {
    const b = await balancer('proxy', ['--id', 'balancer-proxy-wait', '--edge-wait', '3s']);
    const started = Date.now();
    const reply = await get(`${b.url}/vod/glacial-a/240p/seg-00001.ts`);
    assert.equal(reply.status, 504, reply.body);
    assert.equal(reply.headers['streamedge-upstream-fault'], 'edge-wait');
    assert.ok(Date.now() - started < 5_000, 'not retried on another edge');
    assert.deepEqual((await edgeStates(b.url)).map((edge) => edge.health), ['healthy', 'healthy']);
    assert.equal((await get(`${b.url}/vod/cached/240p/seg-00001.ts`)).status, 200);
  });

  it('steering: a cold master playlist on a slow origin is waited for and no edge is ejected', async () => {
    const b = await balancer('steering');
    assert.equal((await get(`${b.url}/vod/cached/master.m3u8`)).status, 200);
    const slow = get(`${b.url}/vod/slow-b/master.m3u8`);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const meanwhile = await get(`${b.url}/vod/cached/master.m3u8`);
    assert.equal(meanwhile.status, 200);
    assert.match(meanwhile.body, /PATHWAY-ID="edge-1"/);
    const reply = await slow;
    assert.equal(reply.status, 200, reply.body);
    assert.match(reply.body, /#EXT-X-CONTENT-STEERING:.*PATHWAY-ID="edge-1"/);
    assert.deepEqual((await edgeStates(b.url)).map((edge) => [edge.id, edge.health, edge.ejections]), [['edge-1', 'healthy', 0], ['edge-2', 'healthy', 0]]);
  });

  it('an edge that really hangs is ejected within the response timeout and a probe, in both fronts', async () => {
    const proxy = await balancer('proxy', ['--id', 'balancer-proxy-hang']);
    const steering = await balancer('steering', ['--id', 'balancer-steering-hang']);
    for (const url of [proxy.url, steering.url]) assert.equal((await get(`${url}/vod/cached/master.m3u8`)).status, 200);
    const hung = edges[0]!.child.pid!;
    process.kill(hung, 'SIGSTOP');
    try {
      for (const [url, path] of [[proxy.url, '/vod/cached/240p/seg-00001.ts'], [steering.url, '/vod/cached/master.m3u8']] as const) {
        const started = Date.now();
        const reply = await get(`${url}${path}`);
        assert.equal(reply.status, 200, reply.body);
        assert.ok(Date.now() - started < 4_000, `answered in ${Date.now() - started} ms`);
        const states = await edgeStates(url);
        assert.notEqual(states.find((edge) => edge.id === 'edge-1')!.health, 'healthy');
        assert.equal(states.find((edge) => edge.id === 'edge-2')!.health, 'healthy');
      }
      assert.equal((await get(`${proxy.url}/vod/cached/240p/seg-00001.ts`)).headers['x-served-by'], 'edge-2');
    } finally {
      process.kill(hung, 'SIGCONT');
    }
  });

  it('an edge that refuses connections is ejected at once', async () => {
    const b = await balancer('proxy', ['--id', 'balancer-proxy-refused', '--probe-interval', '0']);
    assert.equal((await get(`${b.url}/vod/cached/240p/seg-00001.ts`)).status, 200);
    await edges[0]!.kill();
    const started = Date.now();
    const reply = await get(`${b.url}/vod/cached/240p/seg-00001.ts`);
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['x-served-by'], 'edge-2');
    // Below the response timeout (800 ms): no wait, no probe, the refusal itself ejects.
    assert.ok(Date.now() - started < 700, `answered in ${Date.now() - started} ms`);
    await waitFor('edge-1 ejected for a refused connection', async () => ((await edgeStates(b.url)).find((edge) => edge.id === 'edge-1')!.health !== 'healthy' ? true : undefined), 2_000);
  });
});
