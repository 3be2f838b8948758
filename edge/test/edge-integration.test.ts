// Real processes: `streamedge origin` replicas, `streamedge edge`, and a real Consul dev agent.
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDevAgent, type DevAgent } from '../../infra/consul/dev-agent.js';
import { freePorts } from '../../infra/runtime/free-ports.js';
import { spawnStreamedge, type StreamedgeProcess } from '../../stack/streamedge-process.js';
import { waitFor } from '../../infra/testing/wait-for.js';
import { ensureTestCatalog } from '../../origin/test/catalog-fixture.js';
import { writeLiveFixture, type LiveFixture } from '../../origin/test/live-fixture.js';

interface HealthEntry {
  Service: { ID: string; Port: number; Meta: Record<string, string> };
  Checks: { Status: string }[];
}

async function passing(consul: DevAgent, service: string): Promise<HealthEntry[]> {
  const response = await fetch(`${consul.url}/v1/health/service/${service}?passing=true`);
  return (await response.json()) as HealthEntry[];
}

async function body(url: string, init?: RequestInit): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
  const response = await fetch(url, init);
  return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
}

const SEGMENTS = ['240p', '480p', '720p'].flatMap((rendition) => [0, 1, 2].map((n) => `/vod/demo-ts/${rendition}/seg-${String(n).padStart(5, '0')}.ts`));

describe('edge with real origins and a real Consul agent', () => {
  let consul: DevAgent;
  let content: string;
  let channel: LiveFixture;
  const processes: StreamedgeProcess[] = [];
  before(async () => {
    // A copy of the test catalog with a live channel the tests publish into, as an encoder would;
    // every origin here serves it, as replicas share the live store.
    content = await mkdtemp(join(tmpdir(), 'streamedge-edge-it-'));
    await cp(await ensureTestCatalog(), content, { recursive: true });
    channel = await writeLiveFixture(content, { channel: 'news', renditions: ['480p'] });
    consul = await startDevAgent();
  });
  after(async () => {
    await Promise.all(processes.map((process) => process.kill()));
    await consul?.stop();
    await rm(content, { recursive: true, force: true });
  });

  it('discovers origins in Consul, registers itself, fails over, and drains on SIGTERM without a failed request', async () => {
    const origins = await Promise.all(
      ['origin-it-1', 'origin-it-2'].map((id) => spawnStreamedge(['origin', '--content', content, '--port', '0', '--id', id, '--consul', consul.url])),
    );
    processes.push(...origins);
    // Both replicas passing first, so the failover below has a second one to go to.
    await waitFor('both origins passing in Consul', async () => ((await passing(consul, 'streamedge-origin')).length === 2 ? true : undefined), 20_000);
    const edge = await spawnStreamedge([
      'edge', '--port', '0', '--consul', consul.url, '--id', 'edge-it', '--region', 'us-east', '--lat', '39.04', '--lon', '-77.49',
      '--workers', '1', '--drain-delay', '1500ms', '--prefetch', '0', '--hedge-delay', '200ms',
    ]);
    processes.push(edge);
    await waitFor('edge ready (origins discovered)', async () => ((await fetch(`${edge.url}/readyz`)).status === 200 ? true : undefined), 20_000);

    // Same bytes and ETag as the origin; a miss, then a hit.
    const direct = await body(`${origins[0]!.url}${SEGMENTS[3]}`);
    const miss = await body(`${edge.url}${SEGMENTS[3]}`);
    const hit = await body(`${edge.url}${SEGMENTS[3]}?token=viewer-2`);
    assert.ok(miss.bytes.equals(direct.bytes));
    assert.ok(hit.bytes.equals(direct.bytes));
    assert.equal(miss.headers.get('etag'), direct.headers.get('etag'));
    assert.match(miss.headers.get('cache-status')!, /^streamedge-edge-it; fwd=miss; fwd-status=200; ttl=\d+; stored$/);
    assert.match(hit.headers.get('cache-status')!, /^streamedge-edge-it; hit; ttl=\d+$/);
    assert.equal(hit.headers.get('x-served-by'), 'edge-it');
    const master = await body(`${edge.url}/vod/demo-ts/master.m3u8`);
    assert.match(master.bytes.toString(), /^#EXTM3U/);

    // Registered as streamedge-edge with its place and public URL, HTTP check passing.
    const registered = await waitFor('edge passing in Consul', async () => (await passing(consul, 'streamedge-edge')).find((entry) => entry.Service.ID === 'edge-it'), 20_000);
    assert.deepEqual(registered.Service.Meta, { region: 'us-east', lat: '39.04', lon: '-77.49', url: edge.url });

    // One origin replica dies: uncached objects still come from the other one.
    await origins[0]!.kill();
    for (const segment of SEGMENTS.filter((path) => path !== SEGMENTS[3])) {
      const fetched = await body(`${edge.url}${segment}`);
      assert.equal(fetched.status, 200, `${segment}: ${fetched.bytes.toString()}\n${edge.output().slice(-3000)}`);
      assert.ok(fetched.bytes.equals((await body(`${origins[1]!.url}${segment}`)).bytes), segment);
    }

    // Drain: viewers (like the balancer) use the edge while Consul lists it as passing.
    let requests = 0;
    const failures: string[] = [];
    const viewer = async (index: number): Promise<void> => {
      for (let i = 0; i < 10_000; i++) {
        const listed = (await passing(consul, 'streamedge-edge')).some((entry) => entry.Service.ID === 'edge-it');
        if (!listed) return;
        const path = i % 3 === 0 ? '/vod/demo-ts/480p/index.m3u8' : SEGMENTS[(i + index) % SEGMENTS.length]!;
        try {
          const response = await fetch(`${edge.url}${path}`);
          const bytes = Buffer.from(await response.arrayBuffer());
          if (response.status !== 200 || bytes.length !== Number(response.headers.get('content-length'))) failures.push(`${path}: ${response.status}`);
        } catch (error) {
          failures.push(`${path}: ${(error as Error).message}`);
        }
        requests++;
      }
    };
    const viewers = Array.from({ length: 4 }, (_, index) => viewer(index));
    await sleep(300);
    const exitCode = edge.stop(15_000);
    await Promise.all(viewers);
    assert.equal(await exitCode, 0, edge.output());
    assert.deepEqual(failures, []);
    assert.ok(requests > 20, `viewers made ${requests} requests`);
    assert.match(edge.output(), /"msg":"draining"/);
    const catalog = (await (await fetch(`${consul.url}/v1/catalog/service/streamedge-edge`)).json()) as unknown[];
    assert.deepEqual(catalog, [], 'deregistered after the drain');
  });

  it('binds every interface with --host 0.0.0.0, advertising --url in Consul; without --url it refuses to start', async () => {
    await assert.rejects(
      spawnStreamedge(['edge', '--port', '0', '--host', '0.0.0.0', '--consul', consul.url, '--id', 'edge-any', '--workers', '1']),
      /exited \(2\)[^]*--url: required with --host 0\.0\.0\.0 and --consul/,
    );
    const [originPort, edgePort] = await freePorts(2);
    const origin = await spawnStreamedge([
      'origin', '--content', content, '--port', String(originPort), '--host', '0.0.0.0', '--url', `http://127.0.0.1:${originPort}`, '--id', 'origin-any', '--consul', consul.url,
    ]);
    processes.push(origin);
    const edge = await spawnStreamedge([
      'edge', '--port', String(edgePort), '--host', '0.0.0.0', '--url', `http://127.0.0.1:${edgePort}`, '--consul', consul.url, '--id', 'edge-any',
      '--workers', '1', '--drain-delay', '0', '--prefetch', '0',
    ]);
    processes.push(edge);
    try {
      const registered = await waitFor('edge passing in Consul', async () => (await passing(consul, 'streamedge-edge')).find((entry) => entry.Service.ID === 'edge-any'), 20_000);
      assert.equal(registered.Service.Meta.url, `http://127.0.0.1:${edgePort}`);
      // The edge reaches the origin through the URL it advertised.
      const fetched = await waitFor('a segment through the edge', async () => {
        const response = await body(`http://127.0.0.1:${edgePort}${SEGMENTS[0]}`);
        return response.status === 200 ? response : undefined;
      }, 20_000);
      assert.ok(fetched.bytes.length > 0);
    } finally {
      await edge.kill();
      await origin.kill();
    }
  });

  it('keeps the last good origin list while Consul is down, and serves live playlists as they move', async () => {
    const origin = await spawnStreamedge(['origin', '--content', content, '--port', '0', '--id', 'origin-it-4', '--consul', consul.url]);
    processes.push(origin);
    const edge = await spawnStreamedge(['edge', '--port', '0', '--consul', consul.url, '--id', 'edge-it-2', '--workers', '1', '--drain-delay', '0']);
    processes.push(edge);
    await waitFor('edge ready', async () => ((await fetch(`${edge.url}/readyz`)).status === 200 ? true : undefined), 20_000);
    await channel.advance();
    const live = await body(`${edge.url}/live/news/480p/index.m3u8`);
    assert.equal(live.status, 200);
    assert.match(live.bytes.toString(), /#EXT-X-MEDIA-SEQUENCE:2\n[^]*seg-4\.ts\n$/);
    await consul.stop();
    try {
      const segment = await body(`${edge.url}/vod/demo-fmp4/240p/init.mp4`);
      assert.equal(segment.status, 200, 'an uncached object is fetched from the remembered origin');
      assert.ok(segment.bytes.equals((await body(`${origin.url}/vod/demo-fmp4/240p/init.mp4`)).bytes));
      assert.equal((await fetch(`${edge.url}/readyz`)).status, 200);
      await channel.advance();
      await sleep(2100);
      const moved = await body(`${edge.url}/live/news/480p/index.m3u8`);
      assert.equal(moved.status, 200);
      assert.match(moved.bytes.toString(), /#EXT-X-MEDIA-SEQUENCE:3\n[^]*seg-5\.ts\n$/, 'the new window, not the cached one');
      assert.match(moved.headers.get('cache-status')!, /fwd=(stale|miss)/, 'an expired live playlist is fetched again, not served stale');
    } finally {
      await consul.restart();
    }
    assert.equal(await edge.stop(10_000), 0, edge.output());
  });

  it('runs node:cluster workers: shared port, aggregated metrics, purge on every worker, clean SIGTERM', async () => {
    const origin = await spawnStreamedge(['origin', '--content', content, '--port', '0', '--id', 'origin-it-3']);
    processes.push(origin);
    const edge = await spawnStreamedge(['edge', '--port', '0', '--origin', origin.url, '--id', 'edge-cluster', '--workers', '2', '--admin-token', 'cluster-secret', '--drain-delay', '0']);
    processes.push(edge);
    for (let i = 0; i < 6; i++) {
      const fetched = await fetch(`${edge.url}${SEGMENTS[0]}`, { headers: { connection: 'close' } });
      assert.equal(fetched.status, 200);
      await fetched.arrayBuffer();
    }
    // A cold herd spread over both workers: the owner worker fetches once, the other asks it.
    const herd = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const response = await fetch(`${edge.url}${SEGMENTS[8]}`, { headers: { connection: 'close' } });
        return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()) };
      }),
    );
    const expected = (await body(`${origin.url}${SEGMENTS[8]}`)).bytes;
    for (const response of herd) {
      assert.equal(response.status, 200);
      assert.ok(response.bytes.equals(expected));
    }
    const metrics = await (await fetch(`${edge.url}/metrics`)).text();
    const served = [...metrics.matchAll(/^streamedge_edge_responses_total\{cache_status="(hit|miss)"\} (\d+)/gm)].reduce((sum, match) => sum + Number(match[2]), 0);
    // 46 viewer responses over both workers, plus at most one sibling fetch per object.
    assert.ok(served >= 46 && served <= 48, `metrics summed over both workers: ${served}`);
    const originRequests = [...metrics.matchAll(/^streamedge_edge_origin_requests_total\{replica="(origin-[^"]+)",outcome="ok"\} (\d+)/gm)].reduce((sum, match) => sum + Number(match[2]), 0);
    assert.equal(originRequests, 2, 'one origin request per object (two objects), whatever worker the viewers landed on');
    const purge = await fetch(`${edge.url}/admin/purge`, { method: 'POST', headers: { authorization: 'Bearer cluster-secret' }, body: JSON.stringify({ prefix: '/vod/' }) });
    const purged = (await purge.json()) as { purged: number };
    assert.ok(purged.purged >= 2 && purged.purged <= 4, `purged ${purged.purged} copies (2 objects, one copy per worker that had it)`);
    assert.equal(await edge.stop(15_000), 0, edge.output());
  });
});
