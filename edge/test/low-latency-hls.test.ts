// Low-Latency HLS through an edge (in process) against stand-in origins that hold blocking
// reloads and preload-hinted parts as the origin contract says (blocking-origin.ts).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { sumMetric } from '../../infra/prometheus/prometheus-text.js';
import { createEdge, type Edge, type EdgeOptions } from '../edge-server.js';
import { LowLatencyRendition, partBody, RENDITION, startBlockingOrigin, type BlockingOrigin } from '../../infra/testing/blocking-reload-origin.js';

const silent = pino({ level: 'silent' });

async function startEdge(options: Partial<EdgeOptions> & { originUrls: string[] }): Promise<{ edge: Edge; url: string }> {
  const edge = createEdge({ id: 'edge-ll', logger: silent, cacheBytes: 64 * 1024 * 1024, maxObjectBytes: 8 * 1024 * 1024, ...options });
  return { edge, url: await edge.listen(0, '127.0.0.1') };
}

async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  return sumMetric(await (await fetch(`${url}/metrics`)).text(), name, labels);
}

/** A response read whole, and when it was. */
async function get(url: string): Promise<{ readonly status: number; readonly body: string; readonly at: number }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.text(), at: performance.now() };
}

describe('Low-Latency HLS through the edge', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });
  /** Two replicas of one rendition, so a hedge or a failover would have somewhere to go. */
  const replicas = async (rendition: LowLatencyRendition): Promise<BlockingOrigin[]> => {
    const started = await Promise.all([startBlockingOrigin(rendition), startBlockingOrigin(rendition)]);
    for (const origin of started) closers.push(() => origin.close());
    return started;
  };
  const originRequests = (origins: readonly BlockingOrigin[], path: string): string[] => origins.flatMap((origin) => origin.requests.filter((target) => target.startsWith(path)));

  it('200 identical blocking reloads wait on one origin request and are all answered when the part appears', async () => {
    const rendition = new LowLatencyRendition();
    for (let i = 0; i < 3; i++) rendition.publishPart();
    const origins = await replicas(rendition);
    const { edge, url } = await startEdge({ originUrls: origins.map((origin) => origin.url), hedgeDelayMs: 300 });
    closers.push(() => edge.close(1000));
    // The same request spelled three ways (order, leading zeros, a viewer token): one cache key.
    const spellings = ['?_HLS_msn=0&_HLS_part=3', '?_HLS_part=3&_HLS_msn=0', '?token=v1&_HLS_msn=00&_HLS_part=3'];
    const started = performance.now();
    const answers = Promise.all(Array.from({ length: 200 }, (_, i) => get(`${url}${RENDITION}/index.m3u8${spellings[i % spellings.length]}`)));
    // Held past the hedge delay several times over before the part exists.
    await sleep(1200);
    assert.equal(await metric(url, 'streamedge_edge_held_waiters'), 200);
    assert.equal(await metric(url, 'streamedge_edge_held_fetches'), 1);
    const published = performance.now();
    rendition.publishPart();
    const results = await answers;
    for (const result of results) {
      assert.equal(result.status, 200);
      assert.match(result.body, /URI="seg-0\.3\.m4s"/);
      assert.ok(result.at >= published, `answered ${Math.round(published - result.at)} ms before the part existed`);
    }
    assert.deepEqual(originRequests(origins, `${RENDITION}/index.m3u8`), [`${RENDITION}/index.m3u8?_HLS_msn=0&_HLS_part=3`]);
    assert.equal(await metric(url, 'streamedge_edge_origin_hedges_total'), 0);
    // Answered by the part's arrival, not by a timeout: well inside the origin's 6 s hold (the
    // in-process client reading 200 responses on a loaded machine takes part of it).
    const slowest = Math.max(...results.map((result) => result.at)) - published;
    assert.ok(slowest < 3000, `the last viewer was answered ${Math.round(slowest)} ms after the part appeared`);
    assert.ok(published - started >= 1200);
    assert.equal(await metric(url, 'streamedge_edge_held_waiters'), 0);
    assert.equal(await metric(url, 'streamedge_edge_held_fetches'), 0);
    // Cached for its short life: the same request again is a hit.
    const again = await fetch(`${url}${RENDITION}/index.m3u8?_HLS_msn=0&_HLS_part=3`);
    await again.text();
    assert.match(again.headers.get('cache-status')!, /hit/);
    assert.equal(originRequests(origins, `${RENDITION}/index.m3u8`).length, 1);
  });

  it('the preload-hinted part is held, not hedged, and streamed when it is written', async () => {
    const rendition = new LowLatencyRendition();
    rendition.publishPart();
    const origins = await replicas(rendition);
    const { edge, url } = await startEdge({ originUrls: origins.map((origin) => origin.url), hedgeDelayMs: 300 });
    closers.push(() => edge.close(1000));
    // The edge learns the rendition is low-latency from its playlist.
    const playlist = await get(`${url}${RENDITION}/index.m3u8`);
    assert.match(playlist.body, /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-0\.1\.m4s"/);
    const viewers = Promise.all(Array.from({ length: 20 }, () => get(`${url}${RENDITION}/seg-0.1.m4s`)));
    await sleep(900);
    assert.equal(await metric(url, 'streamedge_edge_held_fetches'), 1);
    rendition.publishPart();
    for (const result of await viewers) {
      assert.equal(result.status, 200);
      assert.equal(result.body, partBody(0, 1).toString());
    }
    assert.equal(originRequests(origins, `${RENDITION}/seg-0.1.m4s`).length, 1);
    assert.equal(await metric(url, 'streamedge_edge_origin_hedges_total'), 0);
  });

  it('a hold that ends in 503 is passed on once, from one replica, and blames no replica', async () => {
    const rendition = new LowLatencyRendition();
    rendition.holdMs = 400;
    const origins = await replicas(rendition);
    const { edge, url } = await startEdge({ originUrls: origins.map((origin) => origin.url), hedgeDelayMs: 100 });
    closers.push(() => edge.close(1000));
    // Four blocking reloads for parts that never come: more than the three failures that eject a replica.
    for (let part = 0; part < 4; part++) {
      const result = await get(`${url}${RENDITION}/index.m3u8?_HLS_msn=5&_HLS_part=${part}`);
      assert.equal(result.status, 503);
    }
    assert.equal(originRequests(origins, `${RENDITION}/index.m3u8`).length, 4, 'no failover or hedge to the other replica');
    assert.deepEqual(edge.origins.ejected, []);
    assert.equal(await metric(url, 'streamedge_edge_origin_ejections_total'), 0);
    assert.equal(await metric(url, 'streamedge_edge_origin_hedges_total'), 0);
  });

  it('a hold longer than the hold wait ends in 504 without blaming the replica', async () => {
    const rendition = new LowLatencyRendition();
    const origins = await replicas(rendition);
    const { edge, url } = await startEdge({ originUrls: origins.map((origin) => origin.url), holdWaitMs: 300 });
    closers.push(() => edge.close(1000));
    for (let part = 0; part < 4; part++) {
      const response = await fetch(`${url}${RENDITION}/index.m3u8?_HLS_msn=9&_HLS_part=${part}`);
      await response.text();
      assert.equal(response.status, 504);
      assert.equal(response.headers.get('streamedge-upstream-fault'), 'timeout');
    }
    assert.equal(originRequests(origins, `${RENDITION}/index.m3u8`).length, 4);
    assert.deepEqual(edge.origins.ejected, []);
  });

  it('refuses viewers beyond the bound on held requests with 503 and Retry-After', async () => {
    const rendition = new LowLatencyRendition();
    const origins = await replicas(rendition);
    const { edge, url } = await startEdge({ originUrls: origins.map((origin) => origin.url), maxHeldRequests: 5 });
    closers.push(() => edge.close(1000));
    const waiting = Promise.all(Array.from({ length: 5 }, () => get(`${url}${RENDITION}/index.m3u8?_HLS_msn=0&_HLS_part=0`)));
    await sleep(300);
    assert.equal(await metric(url, 'streamedge_edge_held_waiters'), 5);
    const refused = await fetch(`${url}${RENDITION}/index.m3u8?_HLS_msn=0&_HLS_part=0`);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal(refused.headers.get('streamedge-upstream-fault'), null, 'the edge’s own refusal, not its origin’s');
    assert.match(await refused.text(), /held-limit/);
    assert.equal(await metric(url, 'streamedge_edge_origin_rejected_total', { reason: 'held-limit' }), 1);
    rendition.publishPart();
    for (const result of await waiting) assert.equal(result.status, 200);
    // The places are given back once the responses end.
    assert.equal((await get(`${url}${RENDITION}/index.m3u8?_HLS_msn=0&_HLS_part=0`)).status, 200);
  });

  it('answers bad delivery directives 400 with the reason and never forwards them', async () => {
    const rendition = new LowLatencyRendition();
    const origins = await replicas(rendition);
    const { edge, url } = await startEdge({ originUrls: origins.map((origin) => origin.url) });
    closers.push(() => edge.close(1000));
    for (const [query, reason] of [['_HLS_msn=-1', /_HLS_msn must be an integer/], ['_HLS_msn=1&_HLS_part=x', /_HLS_part must be an integer/], ['_HLS_part=2', /_HLS_part needs _HLS_msn/], ['_HLS_skip=no', /_HLS_skip must be YES or v2/]] as const) {
      const response = await fetch(`${url}${RENDITION}/index.m3u8?${query}`);
      assert.equal(response.status, 400, query);
      assert.match(await response.text(), reason);
    }
    assert.deepEqual(originRequests(origins, '/'), []);
  });
});
