// Anything that can register in Consul could make itself an origin for every edge or an edge for
// every viewer. With allow-lists (--origin-allow on edges, --edge-allow on the balancer) a rogue
// registration outside them is ignored: a real Consul agent, a real origin, edge and balancer, and
// rogue servers registered beside them that must never be asked for anything.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startDevAgent, type DevAgent } from '../../infra/consul/dev-agent.js';
import { waitFor } from '../../infra/testing/wait-for.js';
import { ensureTestCatalog } from '../../origin/test/catalog-fixture.js';
import { spawnStreamedge, type StreamedgeProcess } from '../streamedge-process.js';

interface Rogue {
  readonly url: string;
  requests: number;
  readonly server: Server;
}

/** A server on `host` that answers 200 to anything and counts what it is asked. */
async function startRogue(host: string): Promise<Rogue> {
  const server = createServer((_req, res) => {
    rogue.requests++;
    res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl', 'cache-control': 'max-age=3600' });
    res.end('#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nrogue.ts\n#EXT-X-ENDLIST\n');
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const rogue: Rogue = { url: `http://${host}:${(server.address() as AddressInfo).port}`, requests: 0, server };
  return rogue;
}

async function metricsText(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

describe('Consul allow-lists: rogue registrations never receive a request or a viewer', () => {
  let agent: DevAgent;
  let catalog: string;
  let rogueOrigin: Rogue;
  let rogueEdge: Rogue;
  const processes: StreamedgeProcess[] = [];
  const start = async (args: readonly string[]): Promise<StreamedgeProcess> => {
    const child = await spawnStreamedge(args);
    processes.push(child);
    return child;
  };
  const register = async (registration: Record<string, unknown>): Promise<void> => {
    const response = await fetch(`${agent.url}/v1/agent/service/register`, { method: 'PUT', body: JSON.stringify(registration) });
    assert.equal(response.status, 200, await response.text());
  };
  const passing = async (service: string): Promise<string[]> =>
    ((await (await fetch(`${agent.url}/v1/health/service/${service}?passing=true`)).json()) as { Service: { ID: string } }[]).map((entry) => entry.Service.ID);

  before(async () => {
    [agent, catalog, rogueOrigin, rogueEdge] = await Promise.all([startDevAgent(), ensureTestCatalog(), startRogue('127.0.0.2'), startRogue('127.0.0.3')]);
  });
  after(async () => {
    await Promise.all(processes.map((child) => child.stop(3_000)));
    await agent?.stop();
    for (const rogue of [rogueOrigin, rogueEdge]) {
      rogue?.server.closeAllConnections();
      await new Promise((resolve) => rogue?.server.close(resolve));
    }
  });

  it('an edge with --origin-allow fetches only from the allowed origin; a balancer with --edge-allow steers only to allowed edges', async () => {
    // The rogues register first, with the meta their role expects, so only the address gives them away.
    await register({ Name: 'streamedge-origin', ID: 'origin-rogue', Address: '127.0.0.2', Port: Number(new URL(rogueOrigin.url).port), Meta: { url: rogueOrigin.url } });
    await register({ Name: 'streamedge-edge', ID: 'edge-rogue', Address: '127.0.0.3', Port: Number(new URL(rogueEdge.url).port), Meta: { region: 'local', lat: '0', lon: '0', url: rogueEdge.url, weight: '1000' } });
    // Registered from an allowed address, but pointing viewers elsewhere.
    await register({ Name: 'streamedge-edge', ID: 'edge-rogue-url', Address: '127.0.0.1', Port: 9, Meta: { region: 'local', lat: '0', lon: '0', url: rogueEdge.url, weight: '1000' } });
    // A shield is never sent viewers, but edges fill from it and the balancer's dashboard scrapes it.
    await register({ Name: 'streamedge-shield', ID: 'shield-rogue', Address: '127.0.0.3', Port: Number(new URL(rogueEdge.url).port), Meta: { region: 'local', lat: '0', lon: '0', url: rogueEdge.url, tier: 'shield' } });
    // Without the meta an origin registers: ignored even without an allow-list.
    await register({ Name: 'streamedge-origin', ID: 'origin-bare', Address: '127.0.0.1', Port: 9 });

    await start(['origin', '--port', '0', '--id', 'origin-1', '--content', catalog, '--consul', agent.url]);
    const edge = await start(['edge', '--port', '0', '--id', 'edge-1', '--workers', '1', '--prefetch', '0', '--drain-delay', '0', '--region', 'local', '--consul', agent.url, '--origin-allow', '127.0.0.1/32', '--origin-allow', '::1/128']);
    const balancer = await start(['balancer', '--port', '0', '--consul', agent.url, '--edge-allow', '127.0.0.1/32']);
    await waitFor('origin-1 and edge-1 passing', async () => ((await passing('streamedge-origin')).includes('origin-1') && (await passing('streamedge-edge')).includes('edge-1')) || undefined, 20_000);
    await waitFor('the edge to know origin-1', async () => (/origin-1=/.test(edge.output()) ? true : undefined), 20_000);
    await waitFor('edge-1 in the balancer', async () => (((await (await fetch(`${balancer.url}/status`)).json()) as { edges: { id: string }[] }).edges.some((entry) => entry.id === 'edge-1') ? true : undefined), 20_000);

    // Every object of the title through the edge: all from origin-1, none from the rogue.
    const master = await fetch(`${edge.url}/vod/demo-ts/master.m3u8`);
    assert.equal(master.status, 200);
    const playlists = (await master.text()).split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    let objects = 1;
    for (const playlist of playlists) {
      const media = await fetch(`${edge.url}/vod/demo-ts/${playlist}`);
      assert.equal(media.status, 200);
      const base = playlist.slice(0, playlist.lastIndexOf('/') + 1);
      for (const segment of (await media.text()).split('\n').filter((line) => line !== '' && !line.startsWith('#'))) {
        const reply = await fetch(`${edge.url}/vod/demo-ts/${base}${segment}`);
        assert.equal(reply.status, 200);
        await reply.arrayBuffer();
        objects++;
      }
      objects++;
    }
    assert.ok(objects >= 8, `${objects} objects fetched`);
    assert.equal(rogueOrigin.requests, 0, 'the rogue origin was never asked');

    // Viewers: the master playlist's pathways name edge-1 only, and every URI points at it.
    for (let viewer = 0; viewer < 5; viewer++) {
      const steered = await fetch(`${balancer.url}/vod/demo-ts/master.m3u8?viewer=${viewer}`);
      const body = await steered.text();
      assert.equal(steered.status, 200, body);
      assert.deepEqual([...new Set([...body.matchAll(/PATHWAY-ID="([^"]+)"/g)].map((match) => match[1]))], ['edge-1']);
      assert.doesNotMatch(body, /127\.0\.0\.3/);
    }
    // The dashboard scrapes the edges and the passing shields the balancer took: not the rogue one.
    const samples = (await (await fetch(`${balancer.url}/dashboard/samples`)).json()) as { edges: { id: string }[]; shields: { id: string }[] };
    assert.deepEqual([samples.edges.map((entry) => entry.id), samples.shields], [['edge-1'], []]);
    assert.equal(rogueEdge.requests, 0, 'the rogue edge (and shield) was never sent anything');

    // Logged once per registration (not per Consul answer), and counted in /metrics.
    const register2 = async (): Promise<void> => register({ Name: 'streamedge-origin', ID: 'origin-bare', Address: '127.0.0.1', Port: 9, Meta: { note: 'changed' } });
    await register2();
    await waitFor('the edge to see the change', async () => ((edge.output().match(/"service":"streamedge-origin"[^\n]*upstream replicas changed/g) ?? []).length >= 2 ? true : undefined), 10_000);
    assert.equal(edge.output().match(/"id":"origin-rogue"[^\n]*ignoring a streamedge-origin registration/g)?.length, 1, edge.output());
    assert.match(edge.output(), /"id":"origin-rogue"[^\n]*"reason":"address-not-allowed"/);
    assert.match(edge.output(), /"id":"origin-bare"[^\n]*"reason":"bad-meta"/);
    const edgeMetrics = await metricsText(edge.url);
    assert.match(edgeMetrics, /streamedge_edge_ignored_origins\{reason="address-not-allowed"\} 1\n/);
    assert.match(edgeMetrics, /streamedge_edge_ignored_origins\{reason="bad-meta"\} 1\n/);
    assert.match(balancer.output(), /"id":"edge-rogue"[^\n]*"reason":"address-not-allowed"/);
    assert.match(balancer.output(), /"id":"edge-rogue-url"[^\n]*"reason":"url-not-allowed"/);
    assert.match(balancer.output(), /"id":"shield-rogue"[^\n]*"reason":"address-not-allowed"/);
    const balancerMetrics = await metricsText(balancer.url);
    assert.match(balancerMetrics, /streamedge_balancer_ignored_edges\{reason="address-not-allowed"\} 1\n/);
    assert.match(balancerMetrics, /streamedge_balancer_ignored_edges\{reason="url-not-allowed"\} 1\n/);

    // The control: a balancer without an allow-list takes the rogue edge (its meta is valid), so
    // only the allow-list kept it out above.
    const trusting = await start(['balancer', '--port', '0', '--consul', agent.url, '--id', 'balancer-trusting']);
    const trustingEdges = await waitFor('the trusting balancer to take the rogue edge', async () => {
      const ids = ((await (await fetch(`${trusting.url}/status`)).json()) as { edges: { id: string }[] }).edges.map((entry) => entry.id);
      return ids.includes('edge-rogue') ? ids : undefined;
    }, 20_000);
    assert.deepEqual(trustingEdges.sort(), ['edge-1', 'edge-rogue', 'edge-rogue-url']);
    const trustingShields = await waitFor('the trusting balancer to list the rogue shield', async () => {
      const shields = ((await (await fetch(`${trusting.url}/status`)).json()) as { shields: { id: string }[] }).shields.map((entry) => entry.id);
      return shields.length > 0 ? shields : undefined;
    }, 20_000);
    assert.deepEqual(trustingShields, ['shield-rogue']);
  });

  it('a bad allow-list entry stops the command at start-up, naming the flag', async () => {
    for (const [command, flag] of [['edge', '--origin-allow'], ['balancer', '--edge-allow']] as const) {
      const child = spawnStreamedge([command, '--port', '0', '--consul', agent.url, flag, '10.0.0.0/40']);
      await assert.rejects(child, new RegExp(`${flag}.*`));
    }
  });
});
