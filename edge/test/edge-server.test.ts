import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { pino } from 'pino';
import { rendezvousScore } from '../../infra/hashing/rendezvous-hash.js';
import { sumMetric } from '../../infra/prometheus/prometheus-text.js';
import { waitUntil } from '../../infra/testing/wait-for.js';
import { selectVariant } from '../cache/variants.js';
import { createEdge, type Edge, type EdgeOptions } from '../edge-server.js';
import { deadOriginUrl, object, sha256Etag, startTestOrigin, type TestOrigin } from './test-origin.js';

const silent = pino({ level: 'silent' });

async function startEdge(options: Partial<EdgeOptions> & { originUrls: string[] }): Promise<{ edge: Edge; url: string }> {
  const edge = createEdge({ id: 'edge-t', logger: silent, cacheBytes: 64 * 1024 * 1024, maxObjectBytes: 8 * 1024 * 1024, ...options });
  const url = await edge.listen(0, '127.0.0.1');
  return { edge, url };
}

function bytes(size: number, seed = 1): Buffer {
  const body = Buffer.alloc(size);
  for (let i = 0; i < size; i++) body[i] = (i * 31 + seed) & 0xff;
  return body;
}

/** A raw GET that reports whether the connection was cut before the declared length arrived. */
function rawGet(url: string): Promise<{ status: number; received: number; declared: number | undefined; aborted: boolean }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false }, (res) => {
      let received = 0;
      let aborted = false;
      const declared = res.headers['content-length'] === undefined ? undefined : Number(res.headers['content-length']);
      res.on('data', (chunk: Buffer) => (received += chunk.length));
      res.on('aborted', () => (aborted = true));
      res.on('error', () => (aborted = true));
      res.on('close', () => resolve({ status: res.statusCode!, received, declared, aborted: aborted || !res.complete }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('edge (in-process, scripted origins)', () => {
  let origin: TestOrigin;
  before(async () => {
    origin = await startTestOrigin();
  });
  after(async () => {
    await origin.close();
  });

  it('a herd of 200 concurrent viewers on a cold object makes exactly one origin request; all get identical bytes', async () => {
    const body = bytes(750 * 1024);
    origin.route('/vod/herd/seg-00000.ts', (req, res) => {
      // Answer slowly, in pieces, so the whole herd arrives while the fetch is under way.
      res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': String(body.length), etag: sha256Etag(body), 'cache-control': 'public, max-age=600' });
      let offset = 0;
      const timer = setInterval(() => {
        res.write(body.subarray(offset, offset + 64 * 1024));
        offset += 64 * 1024;
        if (offset >= body.length) {
          clearInterval(timer);
          res.end();
        }
      }, 10);
    });
    const { edge, url } = await startEdge({ originUrls: [origin.url] });
    const pool = new Pool(url, { connections: 250 });
    try {
      const responses = await Promise.all(
        Array.from({ length: 200 }, async () => {
          const response = await pool.request({ path: '/vod/herd/seg-00000.ts', method: 'GET' });
          return { status: response.statusCode, cacheStatus: String(response.headers['cache-status']), body: Buffer.from(await response.body.arrayBuffer()) };
        }),
      );
      assert.equal(origin.hits.get('/vod/herd/seg-00000.ts'), 1);
      for (const response of responses) {
        assert.equal(response.status, 200);
        assert.ok(response.body.equals(body));
      }
      assert.ok(responses.some((response) => response.cacheStatus.includes('collapsed')), 'followers are marked collapsed');
      const hit = await pool.request({ path: '/vod/herd/seg-00000.ts', method: 'GET' });
      await hit.body.arrayBuffer();
      assert.match(String(hit.headers['cache-status']), /^streamedge-edge-t; hit; ttl=\d+$/);
      assert.equal(hit.headers['x-served-by'], 'edge-t');
      assert.equal(hit.headers['access-control-allow-origin'], '*');
    } finally {
      await pool.close();
      await edge.close(1000);
    }
  });

  it('when the shared fetch fails, every waiting viewer gets a clean error at once and none hangs', async () => {
    let requests = 0;
    origin.route('/vod/herd-fail/seg-00000.ts', (_req, res) => {
      requests++;
      setTimeout(() => {
        res.writeHead(503);
        res.end();
      }, 100);
    });
    origin.route('/vod/herd-hang/seg-00000.ts', () => {
      // never answers: the origin timeout ends the fetch
    });
    const { edge, url } = await startEdge({ originUrls: [origin.url], originTimeoutMs: 300 });
    try {
      const statuses = await Promise.all(Array.from({ length: 50 }, async () => (await fetch(`${url}/vod/herd-fail/seg-00000.ts`)).status));
      // The origin's own 503, relayed once every replica has been tried (RFC 9110 §15.6).
      assert.deepEqual(new Set(statuses), new Set([503]));
      assert.equal(requests, 2, 'one shared fetch for the whole herd (a lone replica is tried twice)');
      // Each answer tells whoever fetched through the edge that the fault lies upstream of it.
      const faults = await Promise.all(Array.from({ length: 3 }, async () => (await fetch(`${url}/vod/herd-fail/seg-00000.ts`)).headers.get('streamedge-upstream-fault')));
      assert.deepEqual(new Set(faults), new Set(['http-5xx']));
      const started = performance.now();
      const timedOut = await Promise.all(Array.from({ length: 20 }, async () => {
        const reply = await fetch(`${url}/vod/herd-hang/seg-00000.ts`);
        return `${reply.status} ${reply.headers.get('streamedge-upstream-fault')}`;
      }));
      assert.deepEqual(new Set(timedOut), new Set(['504 timeout']));
      assert.ok(performance.now() - started < 5000, 'bounded by the origin timeout (2 × 300 ms), not hanging');
    } finally {
      await edge.close(1000);
    }
  });

  it('a viewer that waits too long on another request\'s fetch goes to the origin itself (wait-timeout)', async () => {
    let requests = 0;
    origin.route('/vod/wait/seg-00000.ts', (req, res) => {
      requests++;
      const serve = object(Buffer.from('segment'));
      if (requests === 1) setTimeout(() => serve(req, res), 1000);
      else serve(req, res);
    });
    const { edge, url } = await startEdge({ originUrls: [origin.url], coalesceWaitMs: 100, hedgeDelayMs: 0 });
    try {
      const first = fetch(`${url}/vod/wait/seg-00000.ts`);
      await sleep(20);
      const started = performance.now();
      const second = await fetch(`${url}/vod/wait/seg-00000.ts`);
      assert.equal(await second.text(), 'segment');
      assert.ok(performance.now() - started < 800, 'did not wait for the slow fetch');
      assert.match(second.headers.get('cache-status')!, /fwd=bypass; fwd-status=200; detail=wait-timeout/);
      assert.equal(await (await first).text(), 'segment');
      assert.equal(requests, 2);
    } finally {
      await edge.close(1000);
    }
  });

  it('streams a miss to the first viewer before the origin has sent the whole body', async () => {
    const first = Buffer.from('first half|');
    let finish: () => void = () => {};
    origin.route('/vod/slow/seg-00000.ts', (_req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': String(first.length * 2), 'cache-control': 'max-age=60' });
      res.write(first);
      finish = () => res.end(first);
    });
    const { edge, url } = await startEdge({ originUrls: [origin.url] });
    try {
      const response = await fetch(`${url}/vod/slow/seg-00000.ts`);
      assert.equal(response.status, 200);
      const reader = response.body!.getReader();
      const { value } = await reader.read();
      assert.equal(Buffer.from(value!).toString(), 'first half|', 'first bytes arrive while the origin still holds the rest');
      finish();
      let rest = '';
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += Buffer.from(chunk.value).toString();
      assert.equal(rest, 'first half|');
    } finally {
      await edge.close(1000);
    }
  });

  it('fails over from a dead replica and ejects it after repeated failures', async () => {
    // Each object prefers a replica by rendezvous hashing on ports picked at random: with 6 objects
    // all of them preferred the live one in 1 run of 64, and the dead one was never tried.
    const objects = 24;
    const body = bytes(4096, 7);
    for (let i = 0; i < objects; i++) origin.route(`/vod/failover/seg-${i}.ts`, object(body));
    const dead = await deadOriginUrl();
    const { edge, url } = await startEdge({ originUrls: [dead, origin.url] });
    try {
      for (let i = 0; i < objects; i++) {
        const response = await fetch(`${url}/vod/failover/seg-${i}.ts`);
        assert.equal(response.status, 200);
        assert.ok(Buffer.from(await response.arrayBuffer()).equals(body));
      }
      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.match(metrics, /streamedge_edge_origin_requests_total\{replica="origin-1@[^"]+",outcome="connect"\} [1-9]/);
      const deadHits = Number(/streamedge_edge_origin_requests_total\{replica="origin-1@[^"]+",outcome="connect"\} (\d+)/.exec(metrics)![1]);
      assert.ok(deadHits <= 3, `the dead replica is ejected after 3 failures, got ${deadHits} attempts`);
      if (deadHits === 3) assert.deepEqual(edge.origins.ejected, edge.origins.replicas.slice(0, 1).map((replica) => replica.id));
    } finally {
      await edge.close(1000);
    }
  });

  it('hedges to a second replica when the first is slow to answer', async () => {
    const slow = await startTestOrigin();
    const body = bytes(2048, 3);
    for (let i = 0; i < 8; i++) {
      slow.route(`/vod/hedge/seg-${i}.ts`, (req, res) => {
        const timer = setTimeout(() => object(body)(req, res), 2000);
        res.on('close', () => clearTimeout(timer));
      });
      origin.route(`/vod/hedge/seg-${i}.ts`, object(body));
    }
    // Replicas are tried in a per-object order; the slow one comes first for some of the objects.
    const { edge, url } = await startEdge({ originUrls: [slow.url, origin.url], hedgeDelayMs: 50 });
    try {
      for (let i = 0; i < 8; i++) {
        const started = performance.now();
        const response = await fetch(`${url}/vod/hedge/seg-${i}.ts`);
        assert.ok(Buffer.from(await response.arrayBuffer()).equals(body));
        const elapsed = performance.now() - started;
        assert.ok(elapsed < 1500, `answered in ${Math.round(elapsed)} ms, not after the slow replica's 2 s`);
      }
      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.match(metrics, /streamedge_edge_origin_hedges_total\{replica="origin-2@[^"]+"\} [1-8]/);
    } finally {
      await edge.close(1000);
      await slow.close();
    }
  });

  for (const fault of ['truncated', 'reset', 'longer', 'etag-mismatch'] as const) {
    it(`an origin body that is ${fault} is never cached as the object and the viewer sees an aborted connection`, async () => {
      const body = bytes(256 * 1024, 9);
      const path = `/vod/fault-${fault}/seg-00000.ts`;
      let good = false;
      origin.route(path, (req, res) => {
        if (good) return object(body)(req, res);
        const etag = fault === 'etag-mismatch' ? sha256Etag(bytes(10)) : sha256Etag(body);
        const declared = fault === 'longer' ? body.length - 1000 : body.length;
        res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': String(declared), etag, 'cache-control': 'max-age=600' });
        if (fault === 'etag-mismatch') {
          res.end(body);
          return;
        }
        res.write(body.subarray(0, 128 * 1024), () => {
          if (fault === 'longer') {
            // More bytes than declared (the HTTP parser cuts them at Content-Length; the hash catches it).
            res.socket!.end(body.subarray(128 * 1024));
          } else if (fault === 'reset') {
            res.socket!.resetAndDestroy();
          } else {
            res.socket!.destroy();
          }
        });
      });
      const { edge, url } = await startEdge({ originUrls: [origin.url] });
      try {
        const result = await rawGet(`${url}${path}`);
        assert.equal(result.status, 200);
        assert.ok(result.aborted, `viewer connection aborted (received ${result.received} of ${result.declared})`);
        assert.ok(result.received < (result.declared ?? Infinity), 'never a complete-looking body');
        const stored = edge.services.store.peek(path);
        if (fault === 'truncated' || fault === 'reset') {
          // The bytes before the cut may be kept as an incomplete response (RFC 9111 §3.3), never as the object.
          assert.ok(stored !== undefined && 'kind' in stored && stored.kind === 'partial', 'kept as partial content');
          assert.equal(selectVariant(stored, {}), undefined, 'not selectable as the whole object');
          // A reset may drop bytes in flight: what is kept is a prefix of what was written.
          assert.equal(stored.parts.length, 1);
          assert.equal(stored.parts[0]!.start, 0);
          assert.ok(stored.parts[0]!.body.length <= 128 * 1024 && stored.parts[0]!.body.equals(body.subarray(0, stored.parts[0]!.body.length)));
        } else {
          assert.equal(stored, undefined, 'nothing cached');
        }
        good = true;
        const retry = await fetch(`${url}${path}`);
        assert.ok(Buffer.from(await retry.arrayBuffer()).equals(body));
        assert.match(retry.headers.get('cache-status')!, /fwd=miss; fwd-status=200/);
      } finally {
        await edge.close(1000);
      }
    });
  }

  it('a replica serving corrupt bytes: viewers not yet answered get the good object, nothing bad is cached, the replica is ejected, then readmitted', async () => {
    const corrupt = await startTestOrigin();
    const { edge, url } = await startEdge({ originUrls: [corrupt.url, origin.url], hedgeDelayMs: 0, originEjectMs: 400 });
    const [bad, good] = edge.origins.replicas.map((replica) => replica.id) as [string, string];
    // Objects whose rendezvous order puts the corrupt replica first (as every edge would).
    const badFirst = Array.from({ length: 64 }, (_, i) => `/vod/integrity/seg-${String(i).padStart(5, '0')}.ts`).filter((path) => rendezvousScore(bad, path) > rendezvousScore(good, path));
    const [first, second, third] = badFirst as [string, string, string];
    const body = bytes(192 * 1024, 11);
    let corrupting = true;
    for (const path of [first, second, third]) {
      origin.route(path, object(body));
      corrupt.route(path, (req, res) => {
        if (!corrupting) return object(body)(req, res);
        // Same head and ETag as the good replica; every byte inverted (a bad disk), sent slowly enough for viewers to join.
        res.writeHead(200, { 'content-type': 'video/mp2t', etag: sha256Etag(body), 'cache-control': 'max-age=600', 'content-length': String(body.length) });
        const inverted = Buffer.from(body.map((byte) => byte ^ 0xff));
        res.write(inverted.subarray(0, 64 * 1024));
        const timer = setTimeout(() => res.end(inverted.subarray(64 * 1024)), 300);
        res.on('close', () => clearTimeout(timer));
      });
    }
    const metric = async (name: string, labels: Record<string, string> = {}): Promise<number> => sumMetric(await (await fetch(`${url}/metrics`)).text(), name, labels);
    try {
      // The first viewer has its headers when the bytes turn out bad: it is cut, never handed them as a whole.
      const answered = rawGet(`${url}${first}`);
      await waitUntil('the corrupt replica is sending the body', async () => corrupt.hits.get(first) === 1, 2000);
      // A coalesced viewer waiting for the whole object (a range is cut from it) has sent nothing yet: it gets the good bytes.
      const waiting = fetch(`${url}${first}`, { headers: { range: 'bytes=1000-1999' } });
      const cut = await answered;
      assert.equal(cut.status, 200);
      assert.ok(cut.aborted && cut.received < body.length, `first viewer cut (received ${cut.received} of ${cut.declared})`);
      const ranged = await waiting;
      assert.equal(ranged.status, 206);
      assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(body.subarray(1000, 2000)));
      assert.match(ranged.headers.get('cache-status')!, /collapsed/);
      // Fetched again from the good replica, within the same flight, and stored whole: the next viewer hits.
      const stored = edge.services.store.peek(first);
      assert.ok(stored !== undefined && !('kind' in stored && stored.kind === 'partial'));
      const hit = await fetch(`${url}${first}`);
      assert.ok(Buffer.from(await hit.arrayBuffer()).equals(body));
      assert.match(hit.headers.get('cache-status')!, /hit/);
      assert.equal(corrupt.hits.get(first), 1);
      assert.equal(origin.hits.get(first), 1);
      // Ejected, and shown in /metrics.
      assert.deepEqual(edge.origins.ejected, [bad]);
      assert.equal(await metric('streamedge_edge_origin_ejections_total', { replica: bad, reason: 'integrity' }), 1);
      assert.equal(await metric('streamedge_edge_origin_replicas_ejected'), 1);
      assert.equal(await metric('streamedge_edge_integrity_failures_total', { reason: 'etag-mismatch' }), 1);
      assert.equal(await metric('streamedge_edge_integrity_refetches_total', { tier: 'origin' }), 1);
      // Later objects the corrupt replica would have served go to the next replica while it is out.
      const later = await fetch(`${url}${second}`);
      assert.ok(Buffer.from(await later.arrayBuffer()).equals(body));
      assert.equal(corrupt.hits.get(second), undefined);
      // Repaired, it is back when the ejection ends and serves its own objects again.
      corrupting = false;
      await waitUntil('the ejection ends', async () => edge.origins.ejected.length === 0, 2000);
      assert.equal(await metric('streamedge_edge_origin_replicas_ejected'), 0);
      const readmitted = await fetch(`${url}${third}`);
      assert.ok(Buffer.from(await readmitted.arrayBuffer()).equals(body));
      assert.equal(corrupt.hits.get(third), 1);
      assert.equal(origin.hits.get(third), undefined);
    } finally {
      await edge.close(1000);
      await corrupt.close();
    }
  });

  it('serves stale-if-error when every origin fails, and a clean 502 without a stale copy', async () => {
    const body = bytes(1000, 5);
    let failing = false;
    origin.route('/vod/sie/index.m3u8', (req, res) => {
      if (failing) {
        res.writeHead(500);
        res.end('boom');
        return;
      }
      object(body, 'max-age=1, stale-if-error=60')(req, res);
    });
    const { edge, url } = await startEdge({ originUrls: [origin.url] });
    try {
      assert.equal((await fetch(`${url}/vod/sie/index.m3u8`)).status, 200);
      failing = true;
      await sleep(1100);
      const stale = await fetch(`${url}/vod/sie/index.m3u8`);
      assert.equal(stale.status, 200);
      assert.equal(stale.headers.get('streamedge-upstream-fault'), null, 'a stale answer is a success');
      assert.ok(Buffer.from(await stale.arrayBuffer()).equals(body));
      assert.match(stale.headers.get('cache-status')!, /hit; fwd=stale; fwd-status=500; ttl=-\d+; detail=stale-if-error/);
      const missing = await fetch(`${url}/vod/sie/other.m3u8`);
      assert.equal(missing.status, 404, 'origin 404s pass through');
      assert.equal(missing.headers.get('streamedge-upstream-fault'), null);
      origin.route('/vod/sie/broken.m3u8', (_req, res) => {
        res.writeHead(503);
        res.end();
      });
      const broken = await fetch(`${url}/vod/sie/broken.m3u8`);
      // No stale copy: the origin's own answer (status and empty body), not one the edge makes up.
      assert.equal(broken.status, 503);
      assert.equal(await broken.text(), '');
      assert.match(broken.headers.get('cache-status')!, /fwd=miss; fwd-status=503; detail=status/);
    } finally {
      await edge.close(1000);
    }
  });

  it('stale-while-revalidate serves stale at once and refreshes exactly once in the background', async () => {
    let version = 1;
    origin.route('/live/swr/index.m3u8', (_req, res) => {
      const body = Buffer.from(`#EXTM3U\n#v${version}\n`);
      res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl', 'content-length': String(body.length), 'cache-control': 'max-age=1, stale-while-revalidate=30', etag: sha256Etag(body) });
      // The refresh is slow, so every stale request below is answered before it lands.
      setTimeout(() => res.end(body), version === 1 ? 0 : 400);
    });
    const { edge, url } = await startEdge({ originUrls: [origin.url] });
    try {
      assert.match(await (await fetch(`${url}/live/swr/index.m3u8`)).text(), /#v1/);
      version = 2;
      await sleep(1100);
      const before = origin.hits.get('/live/swr/index.m3u8')!;
      const stale = await Promise.all(Array.from({ length: 20 }, () => fetch(`${url}/live/swr/index.m3u8`)));
      for (const response of stale) {
        assert.match(await response.text(), /#v1/);
        assert.match(response.headers.get('cache-status')!, /; hit; .*detail=stale-while-revalidate/);
      }
      for (let i = 0; i < 100 && edge.services.flights.size > 0; i++) await sleep(20);
      assert.equal(origin.hits.get('/live/swr/index.m3u8')! - before, 1, 'one background refresh');
      assert.match(await (await fetch(`${url}/live/swr/index.m3u8`)).text(), /#v2/);
    } finally {
      await edge.close(1000);
    }
  });

  it('revalidates a stale entry with If-None-Match; a 304 refreshes it', async () => {
    const body = Buffer.from('#EXTM3U\n#EXT-X-ENDLIST\n');
    const seen: (string | undefined)[] = [];
    origin.route('/vod/reval/index.m3u8', (req, res) => {
      seen.push(req.headers['if-none-match']);
      object(body, 'max-age=1')(req, res);
    });
    const { edge, url } = await startEdge({ originUrls: [origin.url] });
    try {
      await (await fetch(`${url}/vod/reval/index.m3u8`)).text();
      await sleep(1100);
      const revalidated = await fetch(`${url}/vod/reval/index.m3u8`);
      assert.equal(await revalidated.text(), body.toString());
      assert.match(revalidated.headers.get('cache-status')!, /fwd=stale; fwd-status=304/);
      assert.deepEqual(seen, [undefined, sha256Etag(body)]);
      const hit = await fetch(`${url}/vod/reval/index.m3u8`);
      await hit.text();
      assert.match(hit.headers.get('cache-status')!, /; hit; ttl=/);
    } finally {
      await edge.close(1000);
    }
  });

  it('answers If-None-Match, ranges (206/416) and HEAD from cache; a range on a miss fills the whole object once', async () => {
    const body = bytes(10_000, 11);
    origin.route('/vod/range/seg-00000.ts', object(body, 'max-age=600'));
    const { edge, url } = await startEdge({ originUrls: [origin.url] });
    try {
      const partialMiss = await fetch(`${url}/vod/range/seg-00000.ts`, { headers: { range: 'bytes=100-199' } });
      assert.equal(partialMiss.status, 206);
      assert.equal(partialMiss.headers.get('content-range'), 'bytes 100-199/10000');
      assert.ok(Buffer.from(await partialMiss.arrayBuffer()).equals(body.subarray(100, 200)));
      assert.equal(origin.hits.get('/vod/range/seg-00000.ts'), 1);
      const suffix = await fetch(`${url}/vod/range/seg-00000.ts`, { headers: { range: 'bytes=-10' } });
      assert.equal(suffix.status, 206);
      assert.ok(Buffer.from(await suffix.arrayBuffer()).equals(body.subarray(9990)));
      const unsatisfiable = await fetch(`${url}/vod/range/seg-00000.ts`, { headers: { range: 'bytes=20000-' } });
      assert.equal(unsatisfiable.status, 416);
      assert.equal(unsatisfiable.headers.get('content-range'), 'bytes */10000');
      const malformed = await fetch(`${url}/vod/range/seg-00000.ts`, { headers: { range: 'bytes=abc' } });
      assert.equal(malformed.status, 416);
      const notModified = await fetch(`${url}/vod/range/seg-00000.ts`, { headers: { 'if-none-match': sha256Etag(body) } });
      assert.equal(notModified.status, 304);
      assert.equal(notModified.headers.get('etag'), sha256Etag(body));
      const head = await fetch(`${url}/vod/range/seg-00000.ts`, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), '10000');
      assert.equal(origin.hits.get('/vod/range/seg-00000.ts'), 1);
    } finally {
      await edge.close(1000);
    }
  });

  it('keeps viewer tokens out of the cache key and honours CDN-Cache-Control over Cache-Control', async () => {
    const body = bytes(500, 2);
    origin.route('/vod/key/seg-00000.ts', object(body, 'no-store', { 'cdn-cache-control': 'max-age=600' }));
    const { edge, url } = await startEdge({ originUrls: [origin.url] });
    try {
      for (const query of ['?token=a', '?token=b&region=eu-west', '?_HLS_msn=3']) {
        const response = await fetch(`${url}/vod/key/seg-00000.ts${query}`);
        assert.ok(Buffer.from(await response.arrayBuffer()).equals(body));
        assert.equal(response.headers.get('cdn-cache-control'), null, 'the CDN directive is not forwarded to viewers');
        assert.equal(response.headers.get('cache-control'), 'no-store', 'viewers still see the origin’s own directive');
      }
      assert.equal(origin.hits.get('/vod/key/seg-00000.ts'), 1, 'one object, fetched without the viewer query');
    } finally {
      await edge.close(1000);
    }
  });

  it('streams objects above the size limit through without caching them', async () => {
    const body = bytes(300_000, 4);
    origin.route('/vod/big/seg-00000.ts', object(body, 'max-age=600'));
    const { edge, url } = await startEdge({ originUrls: [origin.url], maxObjectBytes: 100_000 });
    try {
      for (let i = 0; i < 2; i++) {
        const response = await fetch(`${url}/vod/big/seg-00000.ts`);
        assert.ok(Buffer.from(await response.arrayBuffer()).equals(body));
        assert.match(response.headers.get('cache-status')!, /fwd=bypass; fwd-status=200; detail=too-large/);
      }
      assert.equal(origin.hits.get('/vod/big/seg-00000.ts'), 2);
      const ranged = await fetch(`${url}/vod/big/seg-00000.ts`, { headers: { range: 'bytes=1000-1099' } });
      assert.equal(ranged.status, 206);
      assert.equal(ranged.headers.get('content-range'), `bytes 1000-1099/${body.length}`);
      assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(body.subarray(1000, 1100)));
    } finally {
      await edge.close(1000);
    }
  });

  it('does not store no-store or private responses', async () => {
    origin.route('/vod/private/a.m3u8', object(Buffer.from('a'), 'private, max-age=60'));
    origin.route('/vod/private/b.m3u8', object(Buffer.from('b'), 'no-store'));
    const { edge, url } = await startEdge({ originUrls: [origin.url] });
    try {
      for (let i = 0; i < 2; i++) {
        await (await fetch(`${url}/vod/private/a.m3u8`)).text();
        await (await fetch(`${url}/vod/private/b.m3u8`)).text();
      }
      assert.equal(origin.hits.get('/vod/private/a.m3u8'), 2);
      assert.equal(origin.hits.get('/vod/private/b.m3u8'), 2);
    } finally {
      await edge.close(1000);
    }
  });

  it('purge needs a bearer token: 404 when disabled, 401 without, 403 wrong, 400 bad JSON, then purges by key and prefix', async () => {
    const body = bytes(100, 1);
    origin.route('/vod/purge/a.ts', object(body));
    origin.route('/vod/purge/b.ts', object(body));
    const disabled = await startEdge({ originUrls: [origin.url] });
    const { edge, url } = await startEdge({ originUrls: [origin.url], adminToken: 'secret-token' });
    try {
      const post = (target: string, body: string, token?: string): Promise<Response> =>
        fetch(`${target}/admin/purge`, { method: 'POST', body, headers: token ? { authorization: `Bearer ${token}` } : {} });
      assert.equal((await post(disabled.url, '{"key":"/x"}', 'secret-token')).status, 404);
      assert.equal((await post(url, '{"key":"/x"}')).status, 401);
      assert.equal((await post(url, '{"key":"/x"}', 'wrong-token')).status, 403);
      assert.equal((await post(url, '{not json', 'secret-token')).status, 400);
      assert.equal((await post(url, '{"key":"/a","prefix":"/b"}', 'secret-token')).status, 400);
      assert.equal((await post(url, '{"key":"/../etc/passwd"}', 'secret-token')).status, 400);
      assert.equal((await fetch(`${url}/admin/purge`, { headers: { authorization: 'Bearer secret-token' } })).status, 405);
      await (await fetch(`${url}/vod/purge/a.ts`)).arrayBuffer();
      await (await fetch(`${url}/vod/purge/b.ts`)).arrayBuffer();
      const byKey = await post(url, '{"key":"/vod/purge/a.ts?token=x"}', 'secret-token');
      assert.deepEqual(await byKey.json(), { key: '/vod/purge/a.ts', purged: 1 });
      const byPrefix = await post(url, '{"prefix":"/vod/purge/"}', 'secret-token');
      assert.deepEqual(await byPrefix.json(), { prefix: '/vod/purge/', purged: 1 });
      assert.equal(edge.services.store.count, 0);
    } finally {
      await edge.close(1000);
      await disabled.edge.close(1000);
    }
  });

  it('a purge while the object is being fetched is not undone when the fetch lands', async () => {
    const body = bytes(64 * 1024, 5);
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    origin.route('/vod/purge-race/seg-00000.ts', (req, res) => {
      res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': String(body.length), etag: sha256Etag(body), 'cache-control': 'public, max-age=600' });
      res.write(body.subarray(0, 1024));
      void released.then(() => res.end(body.subarray(1024)));
    });
    const { edge, url } = await startEdge({ originUrls: [origin.url], adminToken: 'secret-token' });
    try {
      const viewer = await fetch(`${url}/vod/purge-race/seg-00000.ts`);
      assert.equal(viewer.status, 200, 'the head is out while the body is still coming');
      const purge = await fetch(`${url}/admin/purge`, { method: 'POST', body: '{"key":"/vod/purge-race/seg-00000.ts"}', headers: { authorization: 'Bearer secret-token' } });
      assert.equal(purge.status, 200);
      release();
      assert.ok(Buffer.from(await viewer.arrayBuffer()).equals(body), 'the viewer already receiving it gets it whole');
      assert.equal(edge.services.store.has('/vod/purge-race/seg-00000.ts'), false, 'the landed fetch was not stored');
      const next = await fetch(`${url}/vod/purge-race/seg-00000.ts`);
      assert.match(next.headers.get('cache-status')!, /fwd=miss/);
      await next.arrayBuffer();
      assert.equal(origin.hits.get('/vod/purge-race/seg-00000.ts'), 2);
    } finally {
      await edge.close(1000);
    }
  });

  it('a saturated origin connection gives viewers a 503 with Retry-After and a reason, not an endless queue; /metrics shows it (and the process\'s memory, fds and event-loop delay)', async () => {
    for (let i = 0; i < 4; i++) {
      origin.route(`/vod/busy/seg-${i}.ts`, (req, res) => {
        const timer = setTimeout(() => object(Buffer.from(`busy ${i}`))(req, res), 600);
        res.on('close', () => clearTimeout(timer));
      });
    }
    const { edge, url } = await startEdge({ originUrls: [origin.url], originMaxPerReplica: 1, originMaxQueued: 1, originQueueWaitMs: 5000, hedgeDelayMs: 0 });
    try {
      const first = fetch(`${url}/vod/busy/seg-0.ts`);
      await sleep(50);
      const second = fetch(`${url}/vod/busy/seg-1.ts`);
      await sleep(50);
      const metricsWhileBusy = await (await fetch(`${url}/metrics`)).text();
      assert.match(metricsWhileBusy, /streamedge_edge_origin_inflight_requests 1\n/);
      assert.match(metricsWhileBusy, /streamedge_edge_origin_queued_requests 1\n/);
      const refused = await fetch(`${url}/vod/busy/seg-2.ts`);
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.get('retry-after'), '1');
      // The edge's own refusal, not a fault upstream: Retry-After tells the balancer it is deliberate.
      assert.equal(refused.headers.get('streamedge-upstream-fault'), null);
      assert.match(await refused.text(), /origin-busy-queue-full/);
      assert.equal(origin.hits.get('/vod/busy/seg-2.ts') ?? 0, 0);
      assert.equal((await first).status, 200);
      assert.equal((await second).status, 200, 'the queued request is sent once a slot is free');
      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.match(metrics, /streamedge_edge_origin_rejected_total\{reason="queue-full"\} 1/);
      // The process's own figures, for leak and stall watching (a soak samples them).
      for (const name of ['process_resident_memory_bytes', 'process_open_fds', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds']) {
        assert.match(metrics, new RegExp(`^streamedge_edge_${name} [0-9.e+-]+$`, 'm'), name);
      }
    } finally {
      await edge.close(1000);
    }
  });

  it('an origin that dribbles its body under the idle timeout is cut at the fetch deadline: viewers are cut, nothing is stored', async () => {
    let requests = 0;
    origin.route('/vod/dribble/seg-00000.ts', (_req, res) => {
      requests++;
      res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': '1000', 'cache-control': 'public, max-age=600' });
      const timer = setInterval(() => res.write('x'), 50);
      res.on('close', () => clearInterval(timer));
    });
    const { edge, url } = await startEdge({ originUrls: [origin.url], originTimeoutMs: 200, originDeadlineMs: 400 });
    try {
      const started = performance.now();
      const viewers = await Promise.all([rawGet(`${url}/vod/dribble/seg-00000.ts`), rawGet(`${url}/vod/dribble/seg-00000.ts`)]);
      assert.ok(performance.now() - started < 3000, 'not held by the dribble');
      for (const viewer of viewers) {
        assert.equal(viewer.status, 200);
        assert.ok(viewer.aborted && viewer.received < 1000, `cut mid-stream after ${viewer.received} bytes`);
      }
      assert.equal(requests, 1, 'one shared fetch');
      assert.equal(edge.services.store.peek('/vod/dribble/seg-00000.ts'), undefined, 'nothing stored');
      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.match(metrics, /streamedge_edge_fetch_outcomes_total\{outcome="transient-error"\} [1-9]/);
      assert.match(metrics, /streamedge_edge_integrity_failures_total\{reason="deadline"\} 1/);
    } finally {
      await edge.close(1000);
    }
  });

  it('a flood of different made-up URLs reaches the origin at the new-key rate; the rest get 503 + Retry-After, cached objects still serve', async () => {
    origin.route('/vod/flood/known.ts', object(Buffer.from('known'), 'public, max-age=600'));
    const { edge, url } = await startEdge({ originUrls: [origin.url], newKeysPerSecond: 5 });
    try {
      assert.equal((await fetch(`${url}/vod/flood/known.ts`)).status, 200);
      const before = origin.total();
      const responses = await Promise.all(Array.from({ length: 60 }, async (_, i) => {
        const response = await fetch(`${url}/vod/flood/junk-${i}.ts`);
        return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.text() };
      }));
      const sent = origin.total() - before;
      assert.ok(sent >= 9 && sent <= 12, `${sent} junk requests reached the origin (burst 10)`);
      const refused = responses.filter((response) => response.status === 503);
      assert.ok(refused.length >= 48, `${refused.length} refused`);
      assert.ok(refused.every((response) => response.retryAfter === '1' && response.body.includes('new-key-rate')));
      assert.equal((await fetch(`${url}/vod/flood/known.ts`)).status, 200, 'a cached object is not limited');
      const metrics = await (await fetch(`${url}/metrics`)).text();
      assert.match(metrics, /streamedge_edge_origin_rejected_total\{reason="new-key-rate"\} (4[89]|5\d)/);
    } finally {
      await edge.close(1000);
    }
  });

  it('rejects bad input with a clear 4xx and keeps serving', async () => {
    origin.route('/vod/ok/seg.ts', object(Buffer.from('ok')));
    const { edge, url } = await startEdge({ originUrls: [origin.url] });
    const raw = (text: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const { port } = new URL(url);
        import('node:net').then(({ connect }) => {
          const socket = connect(Number(port), '127.0.0.1', () => socket.end(text));
          let answer = '';
          socket.on('data', (chunk) => (answer += chunk.toString()));
          socket.on('close', () => resolve(answer));
          socket.on('error', reject);
        }, reject);
      });
    try {
      assert.match(await raw('GET /vod/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 400 .*path traversal/s);
      assert.match(await raw('GET /vod/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 400/);
      assert.match(await raw('GET /vod/a%00b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 400/);
      assert.match(await raw('GET /vod/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 400 .*percent/s);
      assert.match(await raw('GET http://evil.example/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 400/);
      assert.match(await raw(`GET /${'a'.repeat(3000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`), /^HTTP\/1\.1 414/);
      assert.match(await raw(`GET /vod/ok/seg.ts HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`), /^HTTP\/1\.1 431/);
      assert.match(await raw('NONSENSE\r\n\r\n'), /^HTTP\/1\.1 400/);
      // Unsafe methods pass through to the origin (issue 10, RFC 9111 §4.4); TRACE is refused.
      const post = await fetch(`${url}/vod/ok/seg.ts`, { method: 'POST', body: 'x' });
      assert.equal(post.status, 200);
      assert.match(post.headers.get('cache-status')!, /; fwd=bypass; fwd-status=200; detail=method/);
      await post.arrayBuffer();
      assert.match(await raw('TRACE /vod/ok/seg.ts HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 405 .*allow: GET, HEAD, OPTIONS, POST, PUT, DELETE, PATCH.*method TRACE not allowed/s);
      const preflight = await fetch(`${url}/vod/ok/seg.ts`, { method: 'OPTIONS', headers: { origin: 'http://player', 'access-control-request-method': 'GET' } });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
      assert.match(preflight.headers.get('access-control-allow-methods')!, /GET/);
      assert.equal(preflight.headers.get('access-control-allow-methods'), 'GET, HEAD, OPTIONS, POST, PUT, DELETE, PATCH');
      const ok = await fetch(`${url}/vod/ok/seg.ts`);
      assert.equal(await ok.text(), 'ok');
      assert.equal(ok.headers.get('access-control-expose-headers'), 'Cache-Status, X-Served-By, Age, Content-Length, Content-Range, ETag');
      assert.equal((await fetch(`${url}/healthz`)).status, 200);
      assert.equal((await fetch(`${url}/readyz`)).status, 200);
      edge.setDraining(true);
      assert.equal((await fetch(`${url}/readyz`)).status, 503);
    } finally {
      await edge.close(1000);
    }
  });
});
