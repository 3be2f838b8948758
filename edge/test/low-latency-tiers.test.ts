// Blocking reloads through the tiers of real edge processes: the sibling workers of one edge
// (`--workers 2`) and a shield hop carry the `_HLS_` delivery directives upstream, and the viewers of
// every worker still cost the origin one held request.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { sumMetric } from '../../infra/prometheus/prometheus-text.js';
import { spawnStreamedge, type StreamedgeProcess } from '../../stack/streamedge-process.js';
import { LowLatencyRendition, RENDITION, startBlockingOrigin, type BlockingOrigin } from '../../infra/testing/blocking-reload-origin.js';

/** One connection per viewer, so the herd spreads over the edge's workers. */
const fresh = new Agent({ pipelining: 0 });

/** `viewers` identical blocking reloads, held for a second before the part they ask for is published. */
async function heldHerd(url: string, rendition: LowLatencyRendition, viewers: number, query: string): Promise<{ status: number; body: string; cacheStatus: string }[]> {
  const answers = Promise.all(Array.from({ length: viewers }, async () => {
    const response = await request(`${url}${RENDITION}/index.m3u8${query}`, { dispatcher: fresh, reset: true });
    return { status: response.statusCode, body: await response.body.text(), cacheStatus: String(response.headers['cache-status'] ?? '') };
  }));
  await sleep(1000);
  rendition.publishPart();
  return answers;
}

describe('Low-Latency HLS through sibling workers and a shield', () => {
  const processes: StreamedgeProcess[] = [];
  const origins: BlockingOrigin[] = [];
  after(async () => {
    await Promise.all(processes.map((process) => process.kill()));
    await Promise.all(origins.map((origin) => origin.close()));
    await fresh.close();
  });
  // Round-robin accepts: the herd's connections reach both workers for sure.
  const spawn = async (args: string[]): Promise<StreamedgeProcess> => {
    const started = await spawnStreamedge(args, { env: { NODE_CLUSTER_SCHED_POLICY: 'rr' } });
    processes.push(started);
    return started;
  };
  const heldRequests = (origin: BlockingOrigin): string[] => origin.requests.filter((target) => target.includes('_HLS_'));

  it('--workers 2: blocking reloads on both workers make one origin request carrying the directives', async () => {
    const rendition = new LowLatencyRendition();
    const origin = await startBlockingOrigin(rendition);
    origins.push(origin);
    const edge = await spawn(['edge', '--id', 'edge-ll-workers', '--port', '0', '--origin', origin.url, '--workers', '2', '--prefetch', '0']);
    const results = await heldHerd(edge.url, rendition, 60, '?_HLS_part=0&_HLS_msn=0');
    for (const result of results) {
      assert.equal(result.status, 200);
      assert.match(result.body, /URI="seg-0\.0\.m4s"/);
    }
    assert.deepEqual(heldRequests(origin), [`${RENDITION}/index.m3u8?_HLS_msn=0&_HLS_part=0`]);
    // Both workers served viewers: the non-owner's went through the owner worker.
    const metrics = await (await fetch(`${edge.url}/metrics`)).text();
    assert.equal(sumMetric(metrics, 'streamedge_edge_upstream_tier_fetches_total', { tier: 'worker', result: 'answered' }), 1);
    assert.equal(sumMetric(metrics, 'streamedge_edge_upstream_tier_fetches_total', { tier: 'origin', result: 'answered' }), 1);
  });

  it('an edge behind a shield: the shield forwards the directives, and holds one request for every viewer', async () => {
    const rendition = new LowLatencyRendition();
    const origin = await startBlockingOrigin(rendition);
    origins.push(origin);
    const shield = await spawn(['edge', '--tier', 'shield', '--id', 'shield-ll', '--port', '0', '--origin', origin.url, '--workers', '1', '--prefetch', '0']);
    const edge = await spawn(['edge', '--id', 'edge-ll-shielded', '--port', '0', '--origin', origin.url, '--shield', shield.url, '--workers', '1', '--prefetch', '0']);
    const results = await heldHerd(edge.url, rendition, 40, '?_HLS_skip=YES&_HLS_msn=0&_HLS_part=0');
    for (const result of results) {
      assert.equal(result.status, 200);
      assert.match(result.cacheStatus, /streamedge-shield-ll/, 'the answer came through the shield');
    }
    assert.deepEqual(heldRequests(origin), [`${RENDITION}/index.m3u8?_HLS_msn=0&_HLS_part=0&_HLS_skip=YES`]);
  });
});
