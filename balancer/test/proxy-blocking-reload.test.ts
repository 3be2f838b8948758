// A Low-Latency HLS blocking reload through the proxy front: the edge holds it (its origin is
// waiting for the part) for longer than the balancer's response timeout. The edge passes its
// /healthz, so it is waited for and not blamed, and the request is never tried on another edge.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LowLatencyRendition, RENDITION, startBlockingOrigin, type BlockingOrigin } from '../../infra/testing/blocking-reload-origin.js';
import { spawnStreamedge, type StreamedgeProcess } from '../../stack/streamedge-process.js';
import { get } from './http-test-client.js';

const RESPONSE_TIMEOUT_MS = 600;

async function edgeStates(balancerUrl: string): Promise<{ id: string; health: string; ejections: number }[]> {
  return (JSON.parse((await get(`${balancerUrl}/status`)).body) as { edges: { id: string; health: string; ejections: number }[] }).edges;
}

async function blamed(balancerUrl: string, party: string): Promise<number> {
  const text = (await get(`${balancerUrl}/metrics`)).body;
  return [...text.matchAll(new RegExp(`^streamedge_balancer_blamed_total\\{[^}]*party="${party}"[^}]*\\} (\\S+)$`, 'gm'))].reduce((sum, match) => sum + Number(match[1]), 0);
}

describe('proxy front and blocking reloads', { timeout: 60_000 }, () => {
  const children: StreamedgeProcess[] = [];
  const rendition = new LowLatencyRendition();
  let origin: BlockingOrigin;
  let balancer: StreamedgeProcess;
  before(async () => {
    origin = await startBlockingOrigin(rendition);
    const edges: StreamedgeProcess[] = [];
    for (const id of ['edge-1', 'edge-2']) {
      const edge = await spawnStreamedge(['edge', '--port', '0', '--id', id, '--origin', origin.url, '--workers', '1', '--prefetch', '0', '--drain-delay', '0']);
      children.push(edge);
      edges.push(edge);
    }
    // edge-1 ranks first for every title, so each request tries it before edge-2.
    const specs = edges.flatMap((edge, i) => ['--edge', `${edge.url};id=edge-${i + 1};region=us-east;lat=39.04;lon=-77.49;weight=${i === 0 ? 1000 : 1}`]);
    balancer = await spawnStreamedge(['balancer', '--port', '0', '--mode', 'proxy', ...specs, '--response-timeout', `${RESPONSE_TIMEOUT_MS}ms`]);
    children.push(balancer);
  });
  after(async () => {
    await Promise.all(children.map((child) => child.stop(3_000)));
    await origin.close();
  });

  it('waits on a held edge past the response timeout, blaming nobody, and asks no other edge', async () => {
    const answers = Promise.all(Array.from({ length: 30 }, () => get(`${balancer.url}${RENDITION}/index.m3u8?_HLS_msn=0&_HLS_part=0`, { timeoutMs: 10_000 })));
    await sleep(4 * RESPONSE_TIMEOUT_MS);
    rendition.publishPart();
    for (const answer of await answers) {
      assert.equal(answer.status, 200, answer.body);
      assert.equal(answer.headers['x-served-by'], 'edge-1');
    }
    assert.deepEqual(origin.requests.filter((target) => target.includes('_HLS_')), [`${RENDITION}/index.m3u8?_HLS_msn=0&_HLS_part=0`]);
    assert.deepEqual((await edgeStates(balancer.url)).map(({ id, health, ejections }) => ({ id, health, ejections })), [
      { id: 'edge-1', health: 'healthy', ejections: 0 },
      { id: 'edge-2', health: 'healthy', ejections: 0 },
    ]);
    assert.equal(await blamed(balancer.url, 'edge'), 0);
  });

  it('passes on a hold that ended in 503 from the edge that held it, blaming its origin', async () => {
    rendition.holdMs = 3 * RESPONSE_TIMEOUT_MS;
    const answer = await get(`${balancer.url}${RENDITION}/index.m3u8?_HLS_msn=40&_HLS_part=0`, { timeoutMs: 10_000 });
    assert.equal(answer.status, 503);
    assert.equal(answer.headers['x-served-by'], 'edge-1');
    assert.equal(origin.requests.filter((target) => target.includes('_HLS_msn=40')).length, 1, 'not retried on edge-2');
    assert.equal(await blamed(balancer.url, 'edge'), 0);
    assert.ok((await blamed(balancer.url, 'upstream')) >= 1);
    assert.equal((await edgeStates(balancer.url)).find((edge) => edge.id === 'edge-1')?.health, 'healthy');
  });
});
