// Measures what segment prefetch buys: a viewer walks a rendition's segments through an edge in
// front of an origin with 40 ms latency, once back to back (start-up buffering, as hls.js does)
// and once with a pause longer than the origin latency (steady playback). Figures are printed as
// test diagnostics; the assertions hold the effect, not exact numbers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { createEdge } from '../edge-server.js';
import { object, startTestOrigin, type TestOrigin } from './test-origin.js';

const SEGMENT_COUNT = 30;
const ORIGIN_LATENCY_MS = 40;

interface Walk {
  hits: number;
  collapsed: number;
  originRequests: number;
  meanMs: number;
}

async function walk(origin: TestOrigin, prefetch: number, pauseMs: number, asset: string): Promise<Walk> {
  const edge = createEdge({ id: 'edge-pf', logger: pino({ level: 'silent' }), originUrls: [origin.url], cacheBytes: 64 * 1024 * 1024, maxObjectBytes: 1024 * 1024, prefetchCount: prefetch });
  const url = await edge.listen(0, '127.0.0.1');
  try {
    const before = origin.total();
    await (await fetch(`${url}/vod/${asset}/480p/index.m3u8`)).text();
    let hits = 0;
    let collapsed = 0;
    let totalMs = 0;
    for (let i = 0; i < SEGMENT_COUNT; i++) {
      const started = performance.now();
      const response = await fetch(`${url}/vod/${asset}/480p/seg-${String(i).padStart(5, '0')}.ts`);
      await response.arrayBuffer();
      totalMs += performance.now() - started;
      const status = response.headers.get('cache-status')!;
      if (/; hit;/.test(status)) hits++;
      else if (/collapsed/.test(status)) collapsed++;
      if (pauseMs > 0) await sleep(pauseMs);
    }
    await sleep(ORIGIN_LATENCY_MS * 2);
    return { hits, collapsed, originRequests: origin.total() - before - 1, meanMs: totalMs / SEGMENT_COUNT };
  } finally {
    await edge.close(1000);
  }
}

describe('segment prefetch effect', () => {
  let origin: TestOrigin;
  let assetCounter = 0;
  before(async () => {
    origin = await startTestOrigin();
  });
  after(() => origin.close());

  const prepareAsset = (): string => {
    const asset = `pf-${assetCounter++}`;
    const lines = ['#EXTM3U', '#EXT-X-TARGETDURATION:2', '#EXT-X-PLAYLIST-TYPE:VOD'];
    for (let i = 0; i < SEGMENT_COUNT; i++) lines.push('#EXTINF:2.0,', `seg-${String(i).padStart(5, '0')}.ts`);
    lines.push('#EXT-X-ENDLIST');
    origin.route(`/vod/${asset}/480p/index.m3u8`, object(Buffer.from(lines.join('\n')), 'max-age=3600'));
    for (let i = 0; i < SEGMENT_COUNT; i++) {
      const serve = object(Buffer.alloc(50_000, i), 'public, max-age=31536000, immutable');
      origin.route(`/vod/${asset}/480p/seg-${String(i).padStart(5, '0')}.ts`, (req, res) => void setTimeout(() => serve(req, res), ORIGIN_LATENCY_MS));
    }
    return asset;
  };

  for (const [label, pauseMs] of [['back to back', 0], ['steady playback', 60]] as const) {
    it(`${label}: prefetch turns a lone viewer's misses into hits without extra origin requests`, async (t) => {
      const results = new Map<number, Walk>();
      for (const prefetch of [0, 1, 2, 4]) results.set(prefetch, await walk(origin, prefetch, pauseMs, prepareAsset()));
      for (const [prefetch, result] of results) {
        t.diagnostic(
          `${label} K=${prefetch}: hit ratio ${(result.hits / SEGMENT_COUNT).toFixed(2)}, joined an in-flight prefetch ${result.collapsed}, ` +
            `origin segment requests ${result.originRequests}, mean segment time ${result.meanMs.toFixed(1)} ms`,
        );
      }
      const off = results.get(0)!;
      const two = results.get(2)!;
      assert.equal(off.hits, 0, 'without prefetch a lone viewer misses every segment');
      assert.ok(two.hits + two.collapsed >= SEGMENT_COUNT - 1, 'with K=2 every segment after the first is warm or already on its way');
      assert.ok(two.meanMs < off.meanMs, 'and arrives sooner');
      for (const result of results.values()) assert.equal(result.originRequests, SEGMENT_COUNT, 'each segment fetched once: prefetch never duplicates');
    });
  }
});
