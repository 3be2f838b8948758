import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BALANCER_DEFAULTS } from '../balancer-wiring.js';
import type { EdgeNode } from '../discovery/edge-node.js';
import { get } from './http-test-client.js';
import { edgeNode, startBalancer } from './test-balancer.js';
import { startStandInEdge, type StandInEdge } from './stand-in-edge.js';

/** Sends raw bytes and returns the status line, for requests no HTTP client would send. */
function rawStatus(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('end', () => resolve(answer.split('\r\n')[0]!));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer')));
  });
}

describe('balancer fronts against stand-in edges', () => {
  let us1: StandInEdge, us2: StandInEdge, eu: StandInEdge;
  let edges: EdgeNode[];
  before(async () => {
    [us1, us2, eu] = await Promise.all([startStandInEdge('edge-1'), startStandInEdge('edge-2'), startStandInEdge('edge-3')]);
    edges = [edgeNode(us1, 'us-east', 39.04, -77.49), edgeNode(us2, 'us-east', 39.04, -77.49), edgeNode(eu, 'eu-west', 53.35, -6.26)];
  });
  after(async () => {
    await Promise.all([us1.kill(), us2.kill(), eu.kill()]);
  });

  describe('redirect', () => {
    let b: Awaited<ReturnType<typeof startBalancer>>;
    before(async () => (b = await startBalancer('redirect', edges)));
    after(() => b.close());

    it('sends each viewer to an edge in its own region (by source address)', async () => {
      const fromUs = await get(`${b.url}/vod/demo-ts/720p/seg-00000.ts`, { localAddress: '127.0.1.7' });
      const fromEu = await get(`${b.url}/vod/demo-ts/720p/seg-00000.ts`, { localAddress: '127.0.2.7' });
      assert.equal(fromUs.status, 302);
      assert.match(fromUs.headers.location!, new RegExp(`^(${us1.url}|${us2.url})/vod/demo-ts/720p/seg-00000\\.ts$`));
      assert.equal(fromUs.headers['cache-control'], 'no-store');
      assert.equal(fromEu.headers.location, `${eu.url}/vod/demo-ts/720p/seg-00000.ts`);
    });

    it('honours the region hint and keeps other query parameters', async () => {
      const reply = await get(`${b.url}/live/channel-1/480p/index.m3u8?region=eu-west&_HLS_msn=3`, { localAddress: '127.0.1.7' });
      assert.equal(reply.headers.location, `${eu.url}/live/channel-1/480p/index.m3u8?_HLS_msn=3`);
      const byHeader = await get(`${b.url}/vod/demo-ts/master.m3u8`, { headers: { 'x-streamedge-region': 'eu-west' } });
      assert.equal(byHeader.headers['x-streamedge-edge'], 'edge-3');
    });

    it('keeps one title on one edge within a region', async () => {
      const targets = new Set<string>();
      for (let i = 0; i < 4; i++) targets.add((await get(`${b.url}/vod/demo-ts/240p/seg-0000${i}.ts`, { localAddress: '127.0.1.7' })).headers['x-streamedge-edge'] as string);
      assert.equal(targets.size, 1);
    });

    it('believes X-Forwarded-For only from a trusted proxy', async () => {
      const spoofed = await get(`${b.url}/vod/demo-ts/master.m3u8`, { localAddress: '127.0.1.7', headers: { 'x-forwarded-for': '127.0.2.50' } });
      assert.notEqual(spoofed.headers['x-streamedge-edge'], 'edge-3');
      const viaProxy = await get(`${b.url}/vod/demo-ts/master.m3u8`, { localAddress: '127.0.0.9', headers: { 'x-forwarded-for': '127.0.2.50' } });
      assert.equal(viaProxy.headers['x-streamedge-edge'], 'edge-3');
      const malformed = await get(`${b.url}/vod/demo-ts/master.m3u8`, { localAddress: '127.0.0.9', headers: { 'x-forwarded-for': '127.0.2.50, bogus' } });
      assert.equal(malformed.status, 400);
      assert.match(malformed.body, /malformed X-Forwarded-For/);
    });

    const badRequests: [string, string, Record<string, string>, number, RegExp][] = [
      ['traversal', '/vod/../../etc/passwd', {}, 400, /traversal/],
      ['encoded traversal', '/vod/demo-ts/%2e%2e/%2e%2e/etc/passwd', {}, 400, /encoded/],
      ['an unknown region', '/vod/demo-ts/master.m3u8?region=mars', {}, 400, /unknown region/],
      ['conflicting hints', '/vod/demo-ts/master.m3u8?region=eu-west', { 'x-streamedge-region': 'us-east' }, 400, /conflicting/],
      ['an unknown path', '/wp-admin/', {}, 404, /not found/],
      // Issue 11: only the exact spellings are the balancer's own endpoints, and nothing else is forwarded.
      ['a control path with a doubled slash', '//metrics', {}, 404, /not found/],
      ['a percent-encoded control path', '/%6detrics', {}, 404, /not found/],
      ['a control path reached by traversal', '/vod/demo-ts/../../metrics', {}, 400, /traversal/],
      ['a path outside the media space', '/vod/demo-ts', {}, 404, /not a media path/],
    ];
    for (const [name, path, headers, status, reason] of badRequests) {
      it(`answers ${status} for ${name}`, async () => {
        const reply = await get(`${b.url}${path}`, { headers });
        assert.equal(reply.status, status);
        assert.match(reply.body, reason);
        assert.equal(reply.headers.location, undefined);
      });
    }

    it('refuses methods other than GET and HEAD', async () => {
      const reply = await get(`${b.url}/vod/demo-ts/master.m3u8`, { method: 'DELETE' });
      assert.equal(reply.status, 405);
      assert.equal(reply.headers.allow, 'GET, HEAD, OPTIONS');
    });

    it('answers absolute-form, malformed and oversized requests with a 4xx and keeps serving', async () => {
      assert.match(await rawStatus(b.port, 'GET http://evil.example/vod/demo-ts/master.m3u8 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 400/);
      assert.match(await rawStatus(b.port, 'GET /vod/demo-ts/master.m3u8 HTTP/1.1\r\nHost x\r\n\r\n'), /^HTTP\/1\.1 400/);
      assert.match(await rawStatus(b.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`), /^HTTP\/1\.1 431/);
      assert.equal((await get(`${b.url}/healthz`)).status, 200);
    });
  });

  describe('region hints switched off', () => {
    let b: Awaited<ReturnType<typeof startBalancer>>;
    before(async () => (b = await startBalancer('redirect', edges, { hintsEnabled: false })));
    after(() => b.close());
    it('answers 400 to a hint', async () => {
      const reply = await get(`${b.url}/vod/demo-ts/master.m3u8?region=eu-west`);
      assert.equal(reply.status, 400);
      assert.match(reply.body, /disabled/);
      assert.equal((await get(`${b.url}/vod/demo-ts/master.m3u8`, { headers: { 'x-streamedge-region': 'eu-west' } })).status, 400);
    });
  });

  describe('steering', () => {
    let b: Awaited<ReturnType<typeof startBalancer>>;
    before(async () => (b = await startBalancer('steering', edges)));
    after(() => b.close());

    it('rewrites the master playlist with one pathway per edge, nearest first, and serves the steering manifest', async () => {
      const master = await get(`${b.url}/vod/demo-ts/master.m3u8`, { localAddress: '127.0.2.7' });
      assert.equal(master.status, 200);
      assert.equal(master.headers['content-type'], 'application/vnd.apple.mpegurl');
      assert.equal(master.headers['cache-control'], 'no-store');
      const steering = /#EXT-X-CONTENT-STEERING:SERVER-URI="([^"]+)",PATHWAY-ID="([^"]+)"/.exec(master.body);
      assert.ok(steering, master.body);
      assert.equal(steering[2], 'edge-3');
      for (const edge of [us1, us2, eu]) assert.ok(master.body.includes(`PATHWAY-ID="${edge.id}"`) && master.body.includes(`${edge.url}/vod/demo-ts/720p/index.m3u8`));

      const manifest = await get(`${b.url}${steering[1]}&_HLS_pathway=edge-3&_HLS_throughput=5000000`, { localAddress: '127.0.2.7' });
      assert.equal(manifest.status, 200);
      const body = JSON.parse(manifest.body) as { VERSION: number; TTL: number; 'RELOAD-URI': string; 'PATHWAY-PRIORITY': string[] };
      assert.equal(body.VERSION, 1);
      assert.equal(body.TTL, BALANCER_DEFAULTS.steeringTtlSeconds);
      assert.equal(body['RELOAD-URI'], steering[1]);
      assert.equal(body['PATHWAY-PRIORITY'][0], 'edge-3');
      assert.deepEqual(new Set(body['PATHWAY-PRIORITY']), new Set(['edge-1', 'edge-2', 'edge-3']));

      // The player reports it left edge-3 (errors there): edge-3 goes to the back for this viewer.
      const moved = JSON.parse((await get(`${b.url}${steering[1]}&_HLS_pathway=edge-1&_HLS_throughput=5000000`, { localAddress: '127.0.2.7' })).body) as { 'PATHWAY-PRIORITY': string[] };
      assert.equal(moved['PATHWAY-PRIORITY'].at(-1), 'edge-3');
      // A slow report on its new pathway demotes that one too.
      const slow = JSON.parse((await get(`${b.url}${steering[1]}&_HLS_pathway=${moved['PATHWAY-PRIORITY'][0]}&_HLS_throughput=100000`, { localAddress: '127.0.2.7' })).body) as { 'PATHWAY-PRIORITY': string[] };
      assert.notEqual(slow['PATHWAY-PRIORITY'][0], moved['PATHWAY-PRIORITY'][0]);
      // edge-3, which it left, stays demoted while its demotion lasts.
      assert.notEqual(slow['PATHWAY-PRIORITY'][0], 'edge-3');
    });

    it('keeps the pathway of a viewer that is slow on every pathway (the viewer is the bottleneck)', async () => {
      const master = await get(`${b.url}/vod/demo-ts/master.m3u8`, { localAddress: '127.0.1.9' });
      const [, uri, first] = /#EXT-X-CONTENT-STEERING:SERVER-URI="([^"]+)",PATHWAY-ID="([^"]+)"/.exec(master.body)!;
      const priorities: string[] = [];
      for (let reload = 0; reload < 4; reload++) {
        const current = priorities.at(-1) ?? first!;
        const manifest = await get(`${b.url}${uri}&_HLS_pathway=${current}&_HLS_throughput=120000`, { localAddress: '127.0.1.9' });
        priorities.push((JSON.parse(manifest.body) as { 'PATHWAY-PRIORITY': string[] })['PATHWAY-PRIORITY'][0]!);
      }
      assert.deepEqual(priorities, [first, first, first, first]);
    });

    it('answers 404 for an asset the edge does not have, and 400 for bad steering requests', async () => {
      const unknown = await get(`${b.url}/vod/no-such-asset/master.m3u8`);
      assert.equal(unknown.status, 404);
      assert.match(unknown.body, /unknown asset/);
      assert.equal((await get(`${b.url}/steering/vod/demo-ts`)).status, 400);
      assert.equal((await get(`${b.url}/steering/vod/demo-ts?session=short`)).status, 400);
      assert.equal((await get(`${b.url}/steering/vod/demo-ts?session=abcdefghijklmnopqrst&_HLS_throughput=fast`)).status, 400);
      assert.equal((await get(`${b.url}/steering/vod/..?session=abcdefghijklmnopqrst`)).status, 400);
    });

    it('redirects non-master media requests to the best edge', async () => {
      const reply = await get(`${b.url}/vod/demo-ts/720p/index.m3u8`, { localAddress: '127.0.2.7' });
      assert.equal(reply.status, 302);
      assert.equal(reply.headers.location, `${eu.url}/vod/demo-ts/720p/index.m3u8`);
    });

    it('serves the catalog through an edge', async () => {
      const reply = await get(`${b.url}/catalog.json`);
      assert.equal(reply.status, 200);
      assert.deepEqual((JSON.parse(reply.body) as { assets: unknown[] }).assets.length, 1);
    });
  });

  describe('proxy', () => {
    let b: Awaited<ReturnType<typeof startBalancer>>;
    before(async () => (b = await startBalancer('proxy', edges)));
    after(() => b.close());

    it('streams the edge response and sets X-Forwarded-For/-Proto', async () => {
      const reply = await get(`${b.url}/vod/demo-ts/720p/seg-00000.ts?region=eu-west`, { localAddress: '127.0.1.7', headers: { 'x-forwarded-for': '6.6.6.6' } });
      assert.equal(reply.status, 200);
      assert.equal(reply.headers['x-served-by'], 'edge-3');
      assert.equal(reply.body.length, 4096);
      const seen = eu.seen.at(-1)!;
      assert.equal(seen.path, '/vod/demo-ts/720p/seg-00000.ts');
      assert.equal(seen.headers['x-forwarded-for'], '127.0.1.7');
      assert.equal(seen.headers['x-forwarded-proto'], 'http');
    });

    it('passes edge 404s through', async () => {
      assert.equal((await get(`${b.url}/vod/demo-ts/720p/nothing.ts`)).status, 404);
    });
  });
});

describe('passive health: a dead edge is ejected at once', () => {
  it('steering: the next viewer gets a playlist from a live edge, and /status and /metrics say why', async () => {
    const standIns = await Promise.all([startStandInEdge('edge-a'), startStandInEdge('edge-b')]);
    const edges = standIns.map((standIn) => edgeNode(standIn, 'us-east', 39.04, -77.49));
    const b = await startBalancer('steering', edges, { ejectBackoffMs: 200, ejectMaxBackoffMs: 400 });
    try {
      const first = await get(`${b.url}/vod/demo-ts/master.m3u8`);
      const victim = standIns.find((standIn) => standIn.id === first.headers['x-streamedge-edge'])!;
      const survivor = standIns.find((standIn) => standIn !== victim)!;
      await victim.kill();
      const started = Date.now();
      const next = await get(`${b.url}/vod/demo-ts/master.m3u8`);
      assert.ok(Date.now() - started < 1000);
      assert.equal(next.status, 200);
      assert.equal(next.headers['x-streamedge-edge'], survivor.id);
      assert.ok(!next.body.includes(`PATHWAY-ID="${victim.id}"`), 'an ejected edge is not offered as a pathway');

      const status = JSON.parse((await get(`${b.url}/status`)).body) as { edges: { id: string; health: string; reason?: string }[] };
      const victimStatus = status.edges.find((edge) => edge.id === victim.id)!;
      assert.notEqual(victimStatus.health, 'healthy');
      assert.equal(victimStatus.reason, 'connect-refused');
      const metrics = (await get(`${b.url}/metrics`)).body;
      assert.match(metrics, new RegExp(`streamedge_balancer_ejections_total\\{edge="${victim.id}",reason="connect-refused"\\} 1`));
      assert.match(metrics, /streamedge_balancer_requests_total\{front="steering",outcome="steered"\} 2/);

      // Back up: the probe readmits it after the back-off.
      await victim.revive();
      const deadline = Date.now() + 5000;
      while (b.balancer.health.health(victim.id).state !== 'healthy' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(b.balancer.health.health(victim.id).state, 'healthy');
    } finally {
      await b.close();
      await Promise.all(standIns.map((standIn) => standIn.kill()));
    }
  });

  it('proxy: a GET is retried on the next edge when the first refuses the connection', async () => {
    const standIns = await Promise.all([startStandInEdge('edge-a'), startStandInEdge('edge-b')]);
    const edges = standIns.map((standIn) => edgeNode(standIn, 'us-east', 39.04, -77.49));
    const b = await startBalancer('proxy', edges);
    try {
      const first = await get(`${b.url}/vod/demo-ts/240p/seg-00001.ts`);
      const victim = standIns.find((standIn) => standIn.id === first.headers['x-served-by'])!;
      await victim.kill();
      const next = await get(`${b.url}/vod/demo-ts/240p/seg-00001.ts`);
      assert.equal(next.status, 200);
      assert.notEqual(next.headers['x-served-by'], victim.id);
      assert.equal(b.balancer.health.health(victim.id).reason, 'connect-refused');
      await standIns.find((standIn) => standIn !== victim)!.kill();
      const none = await get(`${b.url}/vod/demo-ts/240p/seg-00001.ts`);
      assert.ok(none.status === 502 || none.status === 503, `status ${none.status}`);
    } finally {
      await b.close();
      await Promise.all(standIns.map((standIn) => standIn.kill().catch(() => {})));
    }
  });
});

describe('proxy: an edge that accepts but never answers', () => {
  it('counts as failed after the response timeout, is ejected, and the GET goes to the next edge', async () => {
    const silent = createServer(() => {}); // accepts connections, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as AddressInfo).port;
    const live = await startStandInEdge('edge-live');
    const hung: EdgeNode = { id: 'edge-hung', url: `http://127.0.0.1:${silentPort}`, region: 'us-east', lat: 39.04, lon: -77.49, weight: 1 };
    // Give the hung edge every session's hash: weight it so it always ranks first.
    const b = await startBalancer('proxy', [{ ...hung, weight: 1000 }, edgeNode(live, 'us-east', 39.04, -77.49)], { responseTimeoutMs: 300, probeIntervalMs: 0 });
    try {
      const started = Date.now();
      const reply = await get(`${b.url}/vod/demo-ts/240p/seg-00002.ts`);
      assert.equal(reply.status, 200);
      assert.equal(reply.headers['x-served-by'], 'edge-live');
      assert.ok(Date.now() - started < 2_000);
      assert.equal(b.balancer.health.health('edge-hung').reason, 'response-timeout');
    } finally {
      await b.close();
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
      await live.kill();
    }
  });
});

describe('status, metrics, health and player files', () => {
  let b: Awaited<ReturnType<typeof startBalancer>>;
  let playerDir: string;
  before(async () => {
    playerDir = await mkdtemp(join(tmpdir(), 'streamedge-player-'));
    await mkdir(join(playerDir, 'assets'));
    await writeFile(join(playerDir, 'index.html'), '<!doctype html><title>player</title>');
    await writeFile(join(playerDir, 'assets', 'player.js'), 'console.log(1)');
    b = await startBalancer('steering', [], { playerDir });
  });
  after(async () => {
    await b.close();
    await rm(playerDir, { recursive: true, force: true });
  });

  it('serves the player files and refuses odd names', async () => {
    const index = await get(`${b.url}/`);
    assert.equal(index.status, 200);
    assert.match(index.headers['content-type']!, /text\/html/);
    assert.equal((await get(`${b.url}/assets/player.js`)).headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal((await get(`${b.url}/assets/missing.js`)).status, 404);
    assert.equal((await get(`${b.url}/assets/..%2f..%2fetc%2fpasswd`)).status, 400);
    assert.equal((await get(`${b.url}/assets/.env`)).status, 400);
  });

  it('says "player not built" when the player directory is missing', async () => {
    const bare = await startBalancer('steering', []);
    try {
      const reply = await get(`${bare.url}/`);
      assert.equal(reply.status, 503);
      assert.match(reply.body, /player not built/);
    } finally {
      await bare.close();
    }
  });

  it('with no edges: 503 for media, not ready, and /status says so', async () => {
    const media = await get(`${b.url}/vod/demo-ts/master.m3u8`);
    assert.equal(media.status, 503);
    assert.equal((await get(`${b.url}/readyz`)).status, 503);
    assert.equal((await get(`${b.url}/healthz`)).status, 200);
    assert.equal((await get(`${b.url}/catalog.json`)).status, 503);
    const status = JSON.parse((await get(`${b.url}/status`)).body) as { mode: string; edges: unknown[] };
    assert.equal(status.mode, 'steering');
    assert.deepEqual(status.edges, []);
    const html = await get(`${b.url}/status`, { headers: { accept: 'text/html' } });
    assert.match(html.headers['content-type']!, /text\/html/);
    assert.match(html.body, /streamedge balancer/);
    assert.equal((await get(`${b.url}/status.html`)).status, 200);
    const metrics = await get(`${b.url}/metrics`);
    for (const name of ['streamedge_balancer_snapshot_age_seconds', 'streamedge_balancer_consul_reachable', 'streamedge_balancer_requests_total']) {
      assert.ok(metrics.body.includes(name), name);
    }
  });
});
