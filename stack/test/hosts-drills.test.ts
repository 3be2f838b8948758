// The system across network-namespace hosts (`streamedge start --hosts`): three Consul servers,
// a Consul client agent per host, two regions joined by a delaying WAN, a shield per region. Drills an operator fears:
// the Consul leader dies, a region's link is cut under a viewer, an edge host loses power.
// Needs root (namespaces and links), as CI has; it fails, never skips, without it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { Agent, request } from 'undici';
import { obtainConsulBinary } from '../../infra/consul/consul-binary.js';
import type { MetricsSamples } from '../../infra/prometheus/dashboard-samples.js';
import { waitFor } from '../../infra/testing/wait-for.js';
import { parseCatalog, type CatalogAsset } from '../../player/shared/catalog.js';
import { launchChromium } from '../../player/test/chromium.js';
import { openPlayer, type PlayerPage } from '../../player/test/player-page.js';
import { copyPlayerTestCatalog, PLAYER_TEST_LIVE } from '../../player/test/player-test-catalog.js';
import { startHostsStack, type HostsStack } from '../hosts/hosts-stack.js';
import { passingServiceIds } from '../local-stack.js';

const WAN_DELAY_MS = 40;
const STEERING_TTL = '4s';
const MAX_REGION_CUT_STALL_MS = 4_000;
const MAX_LEADER_ELECTION_MS = 10_000;

let stack: HostsStack;
let browser: Browser | undefined;
let live: CatalogAsset;
let content: Awaited<ReturnType<typeof copyPlayerTestCatalog>> | undefined;
const euViewer = new Agent({ localAddress: '10.77.102.2' });

before(
  async () => {
    stack = await startHostsStack({
      contentDir: (content = await copyPlayerTestCatalog()).dir,
      live: PLAYER_TEST_LIVE,
      consulBinary: await obtainConsulBinary(() => {}),
      wanDelayMs: WAN_DELAY_MS,
      edgeCacheSize: '64MB',
      extraArgs: { balancer: ['--steering-ttl', STEERING_TTL] },
    });
    const catalog = parseCatalog(await (await fetch(`${stack.balancerUrl}/catalog.json`)).json());
    live = catalog.find((asset) => asset.kind === 'live')!;
    assert.ok(live, 'the catalog has a live channel');
  },
  { timeout: 180_000 },
);

after(async () => {
  await browser?.close();
  await euViewer.close();
  await stack?.stop();
  await content?.remove();
});

/** The first pathway the balancer steers a viewer to, for a master playlist. */
async function steeredTo(path: string, dispatcher?: Agent): Promise<{ first: string | undefined; pathways: string[] }> {
  const reply = await request(`${stack.balancerUrl}${path}`, dispatcher ? { dispatcher } : {});
  const text = await reply.body.text();
  assert.equal(reply.statusCode, 200, text);
  const pathways = [...text.matchAll(/#EXT-X-STREAM-INF:[^\n]*PATHWAY-ID="([^"]+)"/g)].map((match) => match[1]!);
  return { first: /#EXT-X-CONTENT-STEERING:.*PATHWAY-ID="([^"]+)"/.exec(text)?.[1], pathways: [...new Set(pathways)] };
}

/** Media requests the origins answered (not Consul's health checks or scrapes). */
async function originRequests(): Promise<number> {
  let total = 0;
  for (const origin of stack.services.filter((service) => service.role === 'origin')) {
    const text = await (await fetch(`${origin.url}/metrics`)).text();
    for (const match of text.matchAll(/^streamedge_origin_requests_total\{kind="(?:vod|live)-[a-z]+"[^}]*\} (\d+)/gm)) total += Number(match[1]);
  }
  return total;
}

/** An edge's fill fetches answered by each upstream tier (its own /metrics). */
async function tierFetches(url: string): Promise<{ shield: number; origin: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const answered = (tier: string): number => Number(new RegExp(`^streamedge_edge_upstream_tier_fetches_total\\{tier="${tier}",result="answered"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { shield: answered('shield'), origin: answered('origin') };
}

/** Median time of a request on a kept-alive connection: one round trip to the host. */
async function medianRoundTripMs(url: string, rounds = 7): Promise<number> {
  const agent = new Agent({ connections: 1 });
  try {
    const times: number[] = [];
    for (let i = 0; i <= rounds; i++) {
      const started = performance.now();
      const reply = await request(url, { dispatcher: agent });
      await reply.body.dump();
      if (i > 0) times.push(performance.now() - started); // the first one opens the connection
    }
    return times.sort((a, b) => a - b)[Math.floor(rounds / 2)]!;
  } finally {
    await agent.close();
  }
}

test('every service runs on its own host behind its local Consul agent; the nearest region is measurably nearer', async (t) => {
  t.diagnostic(`--hosts start-up: ${stack.startedInMs} ms to every service passing in Consul`);
  const nodes = (await (await fetch(`${stack.consulUrl}/v1/catalog/nodes`)).json()) as { Node: string; Address: string }[];
  assert.equal(nodes.length, stack.plan.hosts.length);
  const edges = (await (await fetch(`${stack.consulUrl}/v1/catalog/service/streamedge-edge`)).json()) as { ServiceID: string; Node: string; ServiceMeta: Record<string, string> }[];
  for (const edge of edges) assert.equal(edge.Node, edge.ServiceID, `${edge.ServiceID} registered with the agent on its own host`);
  const shields = (await (await fetch(`${stack.consulUrl}/v1/catalog/service/streamedge-shield`)).json()) as typeof edges;
  assert.deepEqual(shields.map((shield) => [shield.ServiceID, shield.ServiceMeta.region]).sort(), [['shield-1', 'us-east'], ['shield-2', 'eu-west']]);
  for (const shield of shields) assert.equal(shield.Node, shield.ServiceID, `${shield.ServiceID} registered with the agent on its own host`);

  assert.match((await steeredTo('/vod/demo-ts/master.m3u8')).first ?? '', /^edge-[12]$/, 'a us-east viewer goes to a us-east edge');
  assert.equal((await steeredTo('/vod/demo-ts/master.m3u8', euViewer)).first, 'edge-3', 'an eu-west viewer goes to edge-3');

  const edge1 = stack.services.find((service) => service.id === 'edge-1')!;
  const edge3 = stack.services.find((service) => service.id === 'edge-3')!;
  const near = await medianRoundTripMs(`${edge1.url}/healthz`);
  const far = await medianRoundTripMs(`${edge3.url}/healthz`);
  t.diagnostic(`us-east viewer, one request on an open connection: edge-1 ${near.toFixed(1)} ms, edge-3 ${far.toFixed(1)} ms (WAN one-way delay ${WAN_DELAY_MS} ms)`);
  assert.ok(far - near >= 1.5 * WAN_DELAY_MS, `the other region costs about a WAN round trip more (${near.toFixed(1)} → ${far.toFixed(1)} ms)`);
});

test('a title first requested in both regions at once: every edge fills through its region\'s shield, the origins answer once per region', async (t) => {
  const before = await originRequests();
  const edges = stack.services.filter((service) => service.role === 'edge');
  const shieldOf = new Map(stack.services.filter((service) => service.role === 'shield').map((shield) => [shield.host.region, shield.id]));
  assert.equal(shieldOf.size, 2, 'a shield in each region');
  const tierBefore = await Promise.all(edges.map((edge) => tierFetches(edge.url)));
  const path = '/vod/demo-fmp4/480p/index.m3u8';
  const answers = await Promise.all(
    edges.flatMap((edge) =>
      Array.from({ length: 4 }, async () => {
        const response = await fetch(`${edge.url}${path}`);
        return { edge, status: response.status, length: (await response.text()).length, cacheStatus: response.headers.get('cache-status') ?? '' };
      }),
    ),
  );
  assert.ok(answers.every((answer) => answer.status === 200), JSON.stringify(answers));
  assert.equal(new Set(answers.map((answer) => answer.length)).size, 1, 'every viewer got the same playlist');
  // Cache-Status lists the caches nearest the origin first: the region's shield sits right before
  // the edge on the fill; a viewer arriving once the fill is stored gets the edge's hit alone.
  for (const answer of answers) {
    const hops = answer.cacheStatus.split(/,\s*/).map((hop) => hop.split(';')[0]!.trim());
    assert.equal(hops.at(-1), `streamedge-${answer.edge.id}`, answer.cacheStatus);
    if (hops.length === 1) assert.match(answer.cacheStatus, /; hit/, answer.cacheStatus);
    else assert.equal(hops.at(-2), `streamedge-${shieldOf.get(answer.edge.host.region)}`, `${answer.edge.id} filled through its region's shield: ${answer.cacheStatus}`);
  }
  for (const edge of edges) assert.ok(answers.some((answer) => answer.edge === edge && answer.cacheStatus.includes(',')), `${edge.id}: a viewer saw the fill`);
  const tierAfter = await Promise.all(edges.map((edge) => tierFetches(edge.url)));
  edges.forEach((edge, i) => {
    assert.equal(tierAfter[i]!.shield - tierBefore[i]!.shield, 1, `${edge.id}: one fill from a shield (tier metrics)`);
    assert.equal(tierAfter[i]!.origin - tierBefore[i]!.origin, 0, `${edge.id}: none straight from the origins`);
  });
  const requests = (await originRequests()) - before;
  t.diagnostic(`${answers.length} viewers on ${edges.length} edges in 2 regions at once → ${requests} origin request(s); Cache-Status on ${answers[0]!.edge.id}: ${answers[0]!.cacheStatus}`);
  // Hosts mode's shields do not hash keys across the WAN (hosts-stack.ts says why): one fetch per region's shield.
  assert.equal(requests, shieldOf.size, 'each region\'s shield fetches once for all its edges');

  // The dashboard's tier view reads the same counters from every edge and shield, across the WAN.
  const samples = (await (await fetch(`${stack.balancerUrl}/dashboard/samples`)).json()) as MetricsSamples;
  assert.deepEqual(samples.shields.map((shield) => [shield.id, shield.error ?? 'scraped']).sort(), [['shield-1', 'scraped'], ['shield-2', 'scraped']]);
  for (const edge of samples.edges) assert.ok((edge.counters?.upstream.shield.requests ?? 0) >= 1, `${edge.id}: ${JSON.stringify(edge.counters?.upstream ?? edge.error)}`);
  const shieldOrigin = samples.shields.reduce((sum, shield) => sum + (shield.counters?.upstream.origin.requests ?? 0), 0);
  assert.ok(shieldOrigin >= 1, 'a shield filled from the origins');
});

test('the Consul leader dies: a new one within seconds, and the balancer keeps routing', async (t) => {
  const leader = await stack.leader();
  assert.ok(leader, 'a leader to stop');
  const others = stack.consulAgents.filter((agent) => agent.server && agent !== leader);
  let routed = 0;
  const failures: string[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      try {
        const { first } = await steeredTo('/vod/demo-ts/master.m3u8');
        if (first) routed++;
        else failures.push('no pathway');
      } catch (error) {
        failures.push((error as Error).message);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  const killedAt = Date.now();
  await leader.stop('kill');
  const elected = await waitFor(
    'a new Consul leader',
    async () => {
      const answers = await Promise.all(others.map((agent) => fetch(`${agent.url}/v1/status/leader`, { signal: AbortSignal.timeout(500) }).then((r) => r.json() as Promise<string>, () => '')));
      const address = answers.find((answer) => answer && !answer.startsWith(`${leader.host.address}:`));
      return address || undefined;
    },
    20_000,
    100,
  );
  const electionMs = Date.now() - killedAt;
  // A write through the new leader works (a KV put commits through Raft).
  const put = await fetch(`${others[0]!.url}/v1/kv/streamedge-drill`, { method: 'PUT', body: 'after-leader-loss' });
  assert.equal(put.status, 200);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  polling = false;
  await poller;
  t.diagnostic(`Consul leader ${leader.host.name} SIGKILLed → new leader ${elected} in ${electionMs} ms; balancer answered ${routed} master playlists meanwhile, ${failures.length} failed`);
  assert.ok(electionMs <= MAX_LEADER_ELECTION_MS, `new leader within ${MAX_LEADER_ELECTION_MS} ms (took ${electionMs})`);
  assert.deepEqual(failures, []);
  await leader.start();
  await waitFor('the old leader back as a voter', async () => {
    const raft = (await (await fetch(`${others[0]!.url}/v1/operator/raft/configuration`)).json()) as { Servers: { Address: string; Voter: boolean }[] };
    const leaders = await Promise.all(stack.consulAgents.filter((agent) => agent.server).map((agent) => fetch(`${agent.url}/v1/status/leader`).then((r) => r.json() as Promise<string>, () => '')));
    return raft.Servers.filter((server) => server.Voter).length === 3 && new Set(leaders).size === 1 && leaders[0] ? true : undefined;
  }, 30_000, 250);
});

test('one region\'s link is cut under a viewer: playback moves to the other region (Chromium)', { timeout: 120_000 }, async (t) => {
  browser = await launchChromium();
  const player: PlayerPage = await openPlayer(browser, stack.balancerUrl, { asset: live.id, region: 'eu-west' });
  try {
    await player.play(4);
    const prior = await player.waitFor('playing from edge-3', (s) => s.servedBy === 'edge-3' || s.fatalError !== null, 10_000);
    assert.equal(prior.fatalError, null);
    const cutAt = Date.now();
    await stack.setRegionLink('eu-west', false);
    const moved = await player.waitFor('the player to leave edge-3', (s) => (s.servedBy !== 'edge-3' && s.servedBy !== null) || s.fatalError !== null, 30_000);
    const movedMs = Date.now() - cutAt;
    const later = await player.waitFor('8 s of playback after the cut', (s) => s.currentTime - moved.currentTime >= 8 || s.fatalError !== null, 30_000);
    const stallMs = later.stalls.totalMs - prior.stalls.totalMs;
    const failedFragments = later.fragments.failed - prior.fragments.failed;
    t.diagnostic(`eu-west cut: viewer moved edge-3 → ${moved.servedBy} after ${movedMs} ms; stall ${Math.round(stallMs)} ms; ${failedFragments} failed fragment loads; errors ${JSON.stringify(later.errors.slice(-3))}`);
    assert.equal(later.fatalError, null);
    assert.match(moved.servedBy ?? '', /^edge-[12]$/);
    assert.ok(stallMs <= MAX_REGION_CUT_STALL_MS, `stall ${Math.round(stallMs)} ms ≤ ${MAX_REGION_CUT_STALL_MS} ms`);
    assert.equal(failedFragments, 0, 'no failed fragment load');
  } finally {
    await player.close();
    await stack.setRegionLink('eu-west', true);
  }
  // The region back: Consul sees edge-3 again and eu-west viewers return to it.
  await waitFor('edge-3 passing in Consul again', async () => ((await passingServiceIds(stack.consulUrl, 'streamedge-edge')).includes('edge-3') ? true : undefined), 60_000, 500);
  await waitFor('eu-west viewers steered to edge-3 again', async () => ((await steeredTo('/vod/demo-ts/master.m3u8', euViewer)).first === 'edge-3' ? true : undefined), 30_000, 500);
});

test('an edge host loses power: Consul marks it critical, viewers move; back, load spreads back', { timeout: 120_000 }, async (t) => {
  const titles = ['demo-ts', 'demo-fmp4'].map((id) => `/vod/${id}/master.m3u8`).concat(`/live/${live.id}/master.m3u8`);
  const placed = async (): Promise<(string | undefined)[]> => (await Promise.all(titles.map((title) => steeredTo(title)))).map((offer) => offer.first);
  const before = await placed();
  const killedAt = Date.now();
  await stack.killHost('edge-1');
  await waitFor('Consul to mark edge-1 critical', async () => {
    const entries = (await (await fetch(`${stack.consulUrl}/v1/health/service/streamedge-edge`)).json()) as { Service: { ID: string }; Checks: { Status: string }[] }[];
    const edge1 = entries.find((entry) => entry.Service.ID === 'edge-1');
    return edge1 === undefined || edge1.Checks.some((check) => check.Status === 'critical') ? true : undefined;
  }, 30_000, 250);
  const criticalMs = Date.now() - killedAt;
  await waitFor('the balancer to stop offering edge-1', async () => {
    const offers = await Promise.all(titles.map((title) => steeredTo(title)));
    return offers.every((offer) => !offer.pathways.includes('edge-1') && offer.first === 'edge-2') ? true : undefined;
  }, 15_000, 250);
  const movedMs = Date.now() - killedAt;
  t.diagnostic(`edge-1 host killed: critical in Consul after ${criticalMs} ms, no longer offered to us-east viewers after ${movedMs} ms`);

  await stack.startHost('edge-1');
  // Consistent hashing with bounded loads: the titles edge-1 had go back to it (sessions still
  // counted on edge-2 may hold one there a while, so at least one of them).
  let last: (string | undefined)[] = [];
  await waitFor(`edge-1 given titles again (before the outage: ${before.join(', ')})`, async () => {
    last = await placed();
    return last.includes('edge-1') ? true : undefined;
  }, 30_000, 500);
  t.diagnostic(`edge-1 back: us-east placements ${titles.map((title, i) => `${title} → ${last[i]}`).join(', ')} (before the outage: ${before.join(', ')})`);
});
