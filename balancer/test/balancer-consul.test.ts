import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { M3U8Parser } from 'hls.js';
import { startDevAgent } from '../../infra/consul/dev-agent.js';
import { spawnStreamedge, type StreamedgeProcess } from '../../stack/streamedge-process.js';
import { ensureTestCatalog } from '../../origin/test/catalog-fixture.js';
import { get } from './http-test-client.js';
import { waitFor } from '../../infra/testing/wait-for.js';

// Real processes throughout: a Consul dev agent, an origin on the test catalog, three edges in two
// regions registering themselves, and the balancer discovering them.

const US_VIEWER = '127.0.1.20';
const EU_VIEWER = '127.0.2.20';

interface BalancerStatus {
  discovery: { reachable: boolean };
  snapshot: { stale: boolean; ageSeconds: number | null };
  edges: { id: string; health: string; reason?: string }[];
}

async function status(balancerUrl: string): Promise<BalancerStatus> {
  return JSON.parse((await get(`${balancerUrl}/status`)).body) as BalancerStatus;
}

/** The master playlist as a viewer at `address` gets it: which edge it starts on, which pathways it carries. */
async function steer(balancerUrl: string, address: string): Promise<{ status: number; first: string | undefined; pathways: string[]; body: string }> {
  const reply = await get(`${balancerUrl}/vod/demo-ts/master.m3u8`, { localAddress: address });
  const first = /#EXT-X-CONTENT-STEERING:.*PATHWAY-ID="([^"]+)"/.exec(reply.body)?.[1];
  const pathways = [...new Set([...reply.body.matchAll(/#EXT-X-STREAM-INF:.*PATHWAY-ID="([^"]+)"/g)].map((match) => match[1]!))];
  return { status: reply.status, first, pathways, body: reply.body };
}

async function edgeCheckStatus(consulUrl: string, edgeId: string): Promise<string | undefined> {
  const checks = (await (await fetch(`${consulUrl}/v1/health/checks/streamedge-edge`)).json()) as { ServiceID: string; Status: string }[];
  return checks.find((check) => check.ServiceID === edgeId)?.Status;
}

test('balancer with a real Consul agent and real edges: regions, SIGKILL, Consul outage', { timeout: 180_000 }, async (t) => {
  const contentDir = await ensureTestCatalog();
  const children: StreamedgeProcess[] = [];
  const agent = await startDevAgent();
  const scratch = await mkdtemp(join(tmpdir(), 'streamedge-balancer-'));
  t.after(async () => {
    await Promise.all(children.map((child) => child.stop(3_000)));
    await agent.stop();
    await rm(scratch, { recursive: true, force: true });
  });
  const spawn = async (args: string[]): Promise<StreamedgeProcess> => {
    const child = await spawnStreamedge(args);
    children.push(child);
    return child;
  };

  const consulUrl = agent.url;
  const origin = await spawn(['origin', '--port', '0', '--content', contentDir, '--consul', consulUrl, '--id', 'origin-1']);
  const edgeArgs = (id: string, region: string, lat: number, lon: number): string[] => [
    'edge', '--port', '0', '--id', id, '--region', region, '--lat', String(lat), '--lon', String(lon),
    '--consul', consulUrl, '--origin', origin.url, '--workers', '1', '--cache-size', '32MB', '--prefetch', '0', '--drain-delay', '0',
  ];
  const edges = new Map<string, StreamedgeProcess>();
  for (const [id, region, lat, lon] of [['edge-1', 'us-east', 39.04, -77.49], ['edge-2', 'us-east', 39.04, -77.49], ['edge-3', 'eu-west', 53.35, -6.26]] as const) {
    edges.set(id, await spawn(edgeArgs(id, region, lat, lon)));
  }
  const locations = join(scratch, 'locations.json');
  await writeFile(
    locations,
    JSON.stringify({
      prefixes: [
        { cidr: '127.0.1.0/24', region: 'us-east', lat: 39.04, lon: -77.49 },
        { cidr: '127.0.2.0/24', region: 'eu-west', lat: 53.35, lon: -6.26 },
      ],
    }),
  );
  const balancer = await spawn(['balancer', '--port', '0', '--consul', consulUrl, '--locations', locations, '--eject-backoff', '1000']);
  await waitFor('3 edges in the balancer snapshot', async () => ((await status(balancer.url)).edges.length === 3 ? true : undefined), 20_000);

  await t.test('viewers from each region start on an edge of their region', async () => {
    for (let viewer = 0; viewer < 4; viewer++) {
      const us = await steer(balancer.url, `127.0.1.${30 + viewer}`);
      assert.equal(us.status, 200, us.body);
      assert.ok(us.first === 'edge-1' || us.first === 'edge-2', `us viewer started on ${us.first}`);
      assert.deepEqual(new Set(us.pathways), new Set(['edge-1', 'edge-2', 'edge-3']));
      const eu = await steer(balancer.url, `127.0.2.${30 + viewer}`);
      assert.equal(eu.first, 'edge-3');
    }
    // The rewritten URIs really play from the edge they name.
    const eu = await steer(balancer.url, EU_VIEWER);
    const variant = new RegExp(`PATHWAY-ID="edge-3"[^\\n]*\\n(http://[^\\n]+)`).exec(eu.body)![1]!;
    const media = await get(variant);
    assert.equal(media.status, 200);
    assert.equal(media.headers['x-served-by'], 'edge-3');
    assert.match(media.body, /#EXTINF/);
    // hls.js itself sees one set of levels per edge and starts on edge-3.
    const parsed = M3U8Parser.parseMasterPlaylist(eu.body, `${balancer.url}/vod/demo-ts/master.m3u8`);
    assert.equal(parsed.contentSteering?.pathwayId, 'edge-3');
    assert.deepEqual(new Set(parsed.levels.map((level) => level.attrs['PATHWAY-ID'])), new Set(['edge-1', 'edge-2', 'edge-3']));
    const catalog = await get(`${balancer.url}/catalog.json`);
    assert.equal(catalog.status, 200);
    assert.ok((JSON.parse(catalog.body) as { assets: { id: string }[] }).assets.some((asset) => asset.id === 'demo-ts'));
  });

  await t.test('an edge registered with bad meta is skipped, with the reason logged', async () => {
    const register = await fetch(`${consulUrl}/v1/agent/service/register`, {
      method: 'PUT',
      body: JSON.stringify({ Name: 'streamedge-edge', ID: 'edge-bad', Address: '127.0.0.1', Port: 9, Meta: { region: 'us-east', lat: 'north', lon: '0', url: 'http://127.0.0.1:9' } }),
    });
    assert.equal(register.status, 200);
    await waitFor('the skip to be logged', async () => (/"id":"edge-bad"[^\n]*ignoring a streamedge-edge registration/.test(balancer.output()) ? true : undefined), 10_000);
    assert.match(balancer.output(), /"reason":"bad-meta","detail":"lat must be a number[^"]*"/);
    assert.deepEqual((await status(balancer.url)).edges.map((edge) => edge.id), ['edge-1', 'edge-2', 'edge-3']);
    assert.equal((await fetch(`${consulUrl}/v1/agent/service/deregister/edge-bad`, { method: 'PUT' })).status, 200);
  });

  await t.test('redirect and proxy fronts send each region to its edges too', async () => {
    const common = ['--port', '0', '--consul', consulUrl, '--locations', locations];
    const redirect = await spawn(['balancer', ...common, '--mode', 'redirect', '--id', 'balancer-redirect']);
    const proxy = await spawn(['balancer', ...common, '--mode', 'proxy', '--id', 'balancer-proxy']);
    for (const url of [redirect.url, proxy.url]) {
      await waitFor('3 edges', async () => ((await status(url)).edges.length === 3 ? true : undefined), 20_000);
    }
    const moved = await get(`${redirect.url}/vod/demo-ts/240p/index.m3u8`, { localAddress: EU_VIEWER });
    assert.equal(moved.status, 302);
    assert.equal(moved.headers['x-streamedge-edge'], 'edge-3');
    const proxied = await get(`${proxy.url}/vod/demo-ts/240p/index.m3u8`, { localAddress: US_VIEWER });
    assert.equal(proxied.status, 200);
    assert.match(proxied.headers['x-served-by'] as string, /^edge-[12]$/);
    assert.match(proxied.body, /#EXTINF/);
    // SIGTERM: an orderly exit.
    assert.deepEqual(await Promise.all([redirect.stop(), proxy.stop()]), [0, 0]);
  });

  await t.test('SIGKILL an edge: within 1 s no new viewer is sent there; Consul later marks it critical', async (t) => {
    const before = await steer(balancer.url, US_VIEWER);
    const victimId = before.first!;
    const survivorId = victimId === 'edge-1' ? 'edge-2' : 'edge-1';
    await edges.get(victimId)!.kill();
    const killedAt = Date.now();
    let lastOffered: number | undefined;
    while (Date.now() - killedAt < 1_500) {
      const startedAt = Date.now();
      const after = await steer(balancer.url, `127.0.1.${40 + Math.floor(Math.random() * 100)}`);
      assert.equal(after.status, 200);
      assert.equal(after.first, survivorId, 'a new viewer never starts on the killed edge');
      if (after.pathways.includes(victimId)) {
        lastOffered = startedAt - killedAt;
        assert.ok(startedAt - killedAt < 1_000, `killed ${victimId} still offered as a pathway ${startedAt - killedAt} ms after SIGKILL`);
      }
    }
    t.diagnostic(lastOffered === undefined ? 'killed edge never offered after SIGKILL' : `killed edge last offered as a fallback pathway ${lastOffered} ms after SIGKILL`);
    const victimStatus = (await status(balancer.url)).edges.find((edge) => edge.id === victimId);
    assert.ok(!victimStatus || victimStatus.health !== 'healthy', `status still shows ${victimId} healthy`);
    await waitFor(`Consul to mark ${victimId} critical`, async () => ((await edgeCheckStatus(consulUrl, victimId)) === 'critical' ? true : undefined), 15_000, 250);
    await waitFor(`the snapshot to drop ${victimId}`, async () => ((await status(balancer.url)).edges.some((edge) => edge.id === victimId) ? undefined : true), 10_000);
  });

  await t.test('Consul stopped: the balancer serves from its last snapshot, says it is stale, and recovers', async () => {
    await agent.stop();
    const stale = await waitFor('status to show Consul unreachable', async () => {
      const current = await status(balancer.url);
      return current.discovery.reachable ? undefined : current;
    }, 10_000);
    assert.equal(stale.snapshot.stale, true);
    assert.deepEqual(stale.edges.map((edge) => edge.id).sort(), [...edges.keys()].filter((id) => edges.get(id)!.child.exitCode === null && edges.get(id)!.child.signalCode === null).sort());
    const eu = await steer(balancer.url, EU_VIEWER);
    assert.equal(eu.status, 200);
    assert.equal(eu.first, 'edge-3');
    const metrics = (await get(`${balancer.url}/metrics`)).body;
    assert.match(metrics, /streamedge_balancer_consul_reachable 0/);

    await agent.restart();
    // The edges' registrations find the fresh agent empty and register again; the watch recovers.
    const recovered = await waitFor('the balancer to see Consul and the live edges again', async () => {
      const current = await status(balancer.url);
      return current.discovery.reachable && current.edges.length === 2 ? current : undefined;
    }, 30_000, 250);
    assert.equal(recovered.snapshot.stale, false);
    assert.ok(recovered.snapshot.ageSeconds !== null && recovered.snapshot.ageSeconds < 15);
    const us = await steer(balancer.url, US_VIEWER);
    assert.equal(us.status, 200);
    assert.ok(us.first === 'edge-1' || us.first === 'edge-2');
  });

  await t.test('the command refuses bad options with exit code 2', async () => {
    for (const args of [['--consul', consulUrl, '--mode', 'teleport'], ['--edge', 'http://x;id=e'], ['--consul', consulUrl, '--balance-factor', '0.5'], ['--consul', consulUrl, '--locations', join(scratch, 'missing.json')], ['--consul', consulUrl, '--trust-proxy', '10.0.0.0/40'], ['--consul', consulUrl, '--consul-wait', '500ms'], ['--consul', consulUrl, '--consul-wait', '11m'], ['--edge', 'http://127.0.0.1:9;id=e1;region=us-east;lat=40;lon=-74', '--consul-wait', '2s']]) {
      const spawned = spawnStreamedge(['balancer', '--port', '0', ...args]);
      await assert.rejects(spawned, /exited \(2\)/, args.join(' '));
    }
  });
});
