// RFC 9111 / RFC 9110 conformance of the edge as a shared cache, one case per rule, each named
// after its section: the real edge (createEdge, in-process) in front of a scriptable origin.
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { selectVariant } from '../cache/variants.js';
import { createEdge, type Edge, type EdgeOptions } from '../edge-server.js';
import { deadOriginUrl, object, rawSocket, sha256Etag, startTestOrigin, type Handler, type TestOrigin } from './test-origin.js';

const silent = pino({ level: 'silent' });

interface Harness {
  readonly origin: TestOrigin;
  /** An edge in front of the test origin; closed after the case. */
  edge(options?: Partial<EdgeOptions>): Promise<{ edge: Edge; url: string }>;
  /** A fresh path on the origin served by `handler`. */
  route(handler: Handler): string;
}

interface Case {
  readonly name: string;
  run(h: Harness): Promise<void>;
}

/** Answers with `status`, `headers` and `body`, counting requests; a scripted origin in one line. */
function reply(status: number, headers: Record<string, string | string[]>, body = ''): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-length': String(Buffer.byteLength(body)), ...headers });
    res.end(body);
  };
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: string }> {
  const response = await fetch(url, { headers });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/** A close-delimited 200 (no Content-Length, no chunking) written on the bare socket. */
function closeDelimitedHead(extra = ''): string {
  return `HTTP/1.1 200 OK\r\ncontent-type: video/mp2t\r\ncache-control: public, max-age=60\r\nconnection: close\r\n${extra}\r\n`;
}

/** GETs `url` and reports whether the body arrived whole, and how many bytes did. */
async function getToTheEnd(url: string): Promise<{ status: number; complete: boolean; bytes: number }> {
  const response = await fetch(url);
  let bytes = 0;
  try {
    for await (const chunk of response.body!) bytes += (chunk as Uint8Array).length;
    return { status: response.status, complete: true, bytes };
  } catch {
    return { status: response.status, complete: false, bytes };
  }
}

/** A GET through node:http, which surfaces interim (1xx) responses as 'information' events. */
async function getWithInterim(url: string): Promise<{ interim: { status: number; headers: Record<string, unknown> }[]; status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const interim: { status: number; headers: Record<string, unknown> }[] = [];
    const request = httpRequest(url);
    request.on('information', (info) => interim.push({ status: info.statusCode, headers: info.headers }));
    request.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ interim, status: res.statusCode!, headers: res.headers, body }));
      res.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

const cases: Case[] = [
  {
    name: 'RFC 9111 §5.3: an Expires that is not an HTTP-date means already expired (not stored as fresh)',
    async run(h) {
      const path = h.route(reply(200, { expires: '2099-01-01T00:00:00Z', 'content-type': 'text/plain' }, 'x'));
      const { url } = await h.edge();
      await get(url + path);
      const second = await get(url + path);
      assert.equal(second.body, 'x');
      assert.equal(h.origin.hits.get(path), 2, 'the second request went to the origin');
    },
  },
  {
    name: 'RFC 9110 §5.6.7: an obsolete RFC 850 Expires is honoured as freshness',
    async run(h) {
      const now = Date.now();
      const rfc850 = (time: number): string => {
        const d = new Date(time);
        const days = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
        const [, day, month, year, clock] = /^\w+, (\d{2}) (\w{3}) \d{2}(\d{2}) (\S+) GMT$/.exec(d.toUTCString())!;
        return `${days[d.getUTCDay()]}, ${day}-${month}-${year} ${clock} GMT`;
      };
      const path = h.route(reply(200, { date: new Date(now).toUTCString(), expires: rfc850(now + 600_000) }, 'x'));
      const { url } = await h.edge();
      await get(url + path);
      const second = await get(url + path);
      assert.match(second.headers.get('cache-status')!, /; hit; ttl=/);
      assert.equal(h.origin.hits.get(path), 1);
    },
  },
  {
    name: 'RFC 9111 §4.2.3: Age on a miss carries the origin\'s Age (age_value + response_delay)',
    async run(h) {
      const path = h.route(reply(200, { 'cache-control': 'max-age=100000', age: '7200' }, 'x'));
      const { url } = await h.edge();
      const miss = await get(url + path);
      assert.match(miss.headers.get('cache-status')!, /fwd=miss/);
      const age = Number(miss.headers.get('age'));
      assert.ok(age >= 7200 && age < 7210, `Age ${age}`);
    },
  },
  {
    name: 'RFC 9111 §4.2.3: apparent_age from the origin\'s Date counts when it is larger',
    async run(h) {
      const path = h.route(reply(200, { 'cache-control': 'max-age=1000', date: new Date(Date.now() - 300_000).toUTCString() }, 'x'));
      const { url } = await h.edge();
      const age = Number((await get(url + path)).headers.get('age'));
      assert.ok(age >= 299 && age < 310, `Age ${age}`);
    },
  },
  {
    name: 'RFC 9111 §4.2.3: Age on a hit is the corrected initial age plus resident time; §4.2.1 it counts against max-age',
    async run(h) {
      const path = h.route(reply(200, { 'cache-control': 'max-age=7202', age: '7200' }, 'x'));
      const { url } = await h.edge();
      await get(url + path);
      await sleep(1100);
      const hit = await get(url + path);
      assert.match(hit.headers.get('cache-status')!, /; hit; ttl=0$/);
      const age = Number(hit.headers.get('age'));
      assert.ok(age >= 7201 && age < 7202, `Age ${age}`);
      await sleep(1000);
      const stale = await get(url + path);
      assert.doesNotMatch(stale.headers.get('cache-status')!, /; hit/, 'the origin\'s Age used up the freshness lifetime');
    },
  },
  {
    name: 'RFC 9110 §6.6.1: a hit replays the stored Date, not the edge\'s clock',
    async run(h) {
      const date = new Date(Math.floor(Date.now() / 1000) * 1000 - 5000).toUTCString();
      const path = h.route(reply(200, { 'cache-control': 'max-age=600', date }, 'x'));
      const { url } = await h.edge();
      assert.equal((await get(url + path)).headers.get('date'), date, 'a miss forwards the origin\'s Date');
      await sleep(1100);
      const hit = await get(url + path);
      assert.match(hit.headers.get('cache-status')!, /; hit/);
      assert.equal(hit.headers.get('date'), date);
    },
  },
  {
    name: 'RFC 9110 §6.6.1: a response without Date gets the time it was received, and hits replay that',
    async run(h) {
      const path = h.route((_req, res) => {
        res.sendDate = false;
        reply(200, { 'cache-control': 'max-age=600' }, 'x')(_req, res);
      });
      const { url } = await h.edge();
      const miss = await get(url + path);
      assert.ok(miss.headers.get('date'));
      await sleep(1100);
      assert.equal((await get(url + path)).headers.get('date'), miss.headers.get('date'));
    },
  },
  {
    name: 'RFC 9111 §3, RFC 9110 §15.1: a 404 without freshness is cached for the short negative TTL, then asked again',
    async run(h) {
      const path = h.route(reply(404, { 'content-type': 'text/plain' }, 'missing'));
      const { url } = await h.edge({ negativeTtlMs: 400 });
      assert.equal((await get(url + path)).status, 404);
      const hit = await get(url + path);
      assert.equal(hit.status, 404);
      assert.equal(hit.body, 'missing');
      assert.match(hit.headers.get('cache-status')!, /; hit; ttl=0/);
      assert.equal(h.origin.hits.get(path), 1);
      await sleep(500);
      assert.equal((await get(url + path)).status, 404);
      assert.equal(h.origin.hits.get(path), 2);
    },
  },
  {
    name: 'RFC 9111 §3: a 410 with the origin\'s max-age is cached for that long',
    async run(h) {
      const path = h.route(reply(410, { 'cache-control': 'max-age=600' }, 'gone'));
      const { url } = await h.edge({ negativeTtlMs: 0 });
      await get(url + path);
      const hit = await get(url + path);
      assert.equal(hit.status, 410);
      assert.match(hit.headers.get('cache-status')!, /; hit; ttl=(59\d|600)/);
      assert.equal(h.origin.hits.get(path), 1);
    },
  },
  {
    name: 'RFC 9111 §3, §4.2.2: a heuristically cacheable 301 is stored and fresh by the Last-Modified heuristic',
    async run(h) {
      const path = h.route(reply(301, { location: '/elsewhere', 'last-modified': new Date(Date.now() - 3_600_000).toUTCString() }));
      const { url } = await h.edge();
      const first = await fetch(url + path, { redirect: 'manual' });
      await first.arrayBuffer();
      const hit = await fetch(url + path, { redirect: 'manual' });
      await hit.arrayBuffer();
      assert.equal(hit.status, 301);
      assert.equal(hit.headers.get('location'), '/elsewhere');
      assert.match(hit.headers.get('cache-status')!, /; hit/);
      assert.equal(h.origin.hits.get(path), 1);
    },
  },
  {
    name: 'RFC 9111 §3: a 302 is stored only with explicit freshness',
    async run(h) {
      const plain = h.route(reply(302, { location: '/a' }));
      const explicit = h.route(reply(302, { location: '/b', 'cache-control': 'max-age=60' }));
      const { url } = await h.edge();
      for (let i = 0; i < 2; i++) {
        for (const path of [plain, explicit]) assert.equal((await fetch(url + path, { redirect: 'manual' })).status, 302);
      }
      assert.equal(h.origin.hits.get(plain), 2);
      assert.equal(h.origin.hits.get(explicit), 1);
    },
  },
  {
    name: 'RFC 9111 §3: a 204 is stored and replayed without a body or Content-Length',
    async run(h) {
      const path = h.route((_req, res) => {
        res.writeHead(204, { 'cache-control': 'max-age=60', 'x-kind': 'empty' });
        res.end();
      });
      const { url } = await h.edge();
      await get(url + path);
      const hit = await get(url + path);
      assert.equal(hit.status, 204);
      assert.equal(hit.headers.get('content-length'), null);
      assert.equal(hit.headers.get('x-kind'), 'empty');
      assert.equal(h.origin.hits.get(path), 1);
    },
  },
  {
    name: 'RFC 9111 §3.3: a 206 from the origin is relayed with its Content-Range, never stored as the object',
    async run(h) {
      const path = h.route(reply(206, { 'cache-control': 'max-age=60', 'content-range': 'bytes 0-0/10' }, 'x'));
      const { url } = await h.edge();
      assert.equal((await get(url + path)).status, 206);
      const again = await get(url + path);
      assert.equal(again.status, 206);
      assert.equal(again.headers.get('content-range'), 'bytes 0-0/10', 'RFC 9110 §14.4: Content-Range relayed with the partial content');
      assert.equal(h.origin.hits.get(path), 2);
    },
  },
  {
    name: 'RFC 9111 §3.3, §3.4: a 206 for a range of an object too large to store whole is kept; ranges inside it are served from cache, others fetched and combined; the whole object is never answered from it',
    async run(h) {
      const body = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));
      const path = h.route(object(body));
      const { url } = await h.edge({ maxObjectBytes: 32 * 1024 });
      const first = await get(url + path, { range: 'bytes=0-999' });
      assert.equal(first.status, 206);
      assert.equal(first.headers.get('content-range'), 'bytes 0-999/100000');
      const asked = h.origin.hits.get(path)!;
      const inside = await fetch(url + path, { headers: { range: 'bytes=100-199' } });
      assert.equal(inside.status, 206);
      assert.equal(inside.headers.get('content-range'), 'bytes 100-199/100000');
      assert.match(inside.headers.get('cache-status')!, /; hit; ttl=\d+; detail=partial$/);
      assert.equal(inside.headers.get('etag'), sha256Etag(body));
      assert.deepEqual(Buffer.from(await inside.arrayBuffer()), body.subarray(100, 200));
      assert.equal(h.origin.hits.get(path), asked, 'served from the stored part');
      // A range past the stored part goes to the origin alone, and is combined with it.
      assert.equal((await get(url + path, { range: 'bytes=1000-2999' })).status, 206);
      assert.equal(h.origin.hits.get(path), asked + 1);
      const spanning = await fetch(url + path, { headers: { range: 'bytes=900-2100' } });
      assert.match(spanning.headers.get('cache-status')!, /detail=partial/);
      assert.deepEqual(Buffer.from(await spanning.arrayBuffer()), body.subarray(900, 2101));
      assert.equal(h.origin.hits.get(path), asked + 1, 'the combined parts answer a range across both');
      // An unsatisfiable range is answered from the known complete length.
      const past = await get(url + path, { range: 'bytes=200000-' });
      assert.deepEqual([past.status, past.headers.get('content-range')], [416, 'bytes */100000']);
      // Several ranges, or the whole object: never from the parts.
      const whole = await fetch(url + path);
      assert.equal(whole.status, 200);
      assert.equal((await whole.arrayBuffer()).byteLength, body.length);
      assert.doesNotMatch(whole.headers.get('cache-status')!, /; hit/);
    },
  },
  {
    name: 'RFC 9111 §3.3: a 206 cut short on its way is never kept; the viewer sees the cut and the range is asked for again',
    async run(h) {
      const body = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 97));
      const served = object(body);
      let ranges = 0;
      const path = h.route((req, res) => {
        if (req.headers.range === undefined || ++ranges > 1) return served(req, res);
        res.writeHead(206, { etag: sha256Etag(body), 'cache-control': 'max-age=60', 'content-range': 'bytes 0-9999/100000', 'content-length': '10000' });
        res.write(body.subarray(0, 5000), () => setTimeout(() => res.socket!.resetAndDestroy(), 50));
      });
      const { edge, url } = await h.edge({ maxObjectBytes: 32 * 1024 });
      const cut = await fetch(url + path, { headers: { range: 'bytes=0-9999' } });
      assert.equal(cut.status, 206);
      await assert.rejects(cut.arrayBuffer(), 'the viewer saw the cut, never a short 206');
      assert.equal(edge.services.store.peek(path), undefined, 'nothing kept');
      const again = await fetch(url + path, { headers: { range: 'bytes=0-99' } });
      assert.deepEqual(Buffer.from(await again.arrayBuffer()), body.subarray(0, 100));
      assert.doesNotMatch(again.headers.get('cache-status')!, /; hit/);
      assert.equal(ranges, 2);
    },
  },
  {
    name: 'RFC 9111 §3.3: a 200 cut short (strong validator, known length) is kept as incomplete — never served whole — and completed by a later range (§3.4) into a stored 200',
    async run(h) {
      const body = Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 7) % 256));
      const etag = sha256Etag(body);
      const served = object(body);
      const cutFirst = (): Handler => {
        let asked = 0;
        return (req, res) => {
          if (++asked > 1) return served(req, res);
          req.socket.write(`HTTP/1.1 200 OK\r\ncontent-type: video/mp2t\r\ncache-control: max-age=60\r\netag: ${etag}\r\ncontent-length: ${body.length}\r\n\r\n`);
          req.socket.write(body.subarray(0, body.length / 2));
          setTimeout(() => req.socket.resetAndDestroy(), 100);
        };
      };
      const path = h.route(cutFirst());
      const { url } = await h.edge();
      const cut = await getToTheEnd(url + path);
      assert.equal(cut.complete, false, 'the viewer saw the cut, never a short 200');
      const inside = await fetch(url + path, { headers: { range: 'bytes=0-99' } });
      assert.equal(inside.status, 206);
      assert.match(inside.headers.get('cache-status')!, /detail=partial/);
      assert.deepEqual(Buffer.from(await inside.arrayBuffer()), body.subarray(0, 100));
      assert.equal(h.origin.hits.get(path), 1);
      // The missing half, asked for as a range, completes the object: stored whole, a plain hit.
      const rest = await fetch(url + path, { headers: { range: `bytes=${body.length / 2}-${body.length - 1}` } });
      assert.equal(rest.status, 206);
      assert.deepEqual(Buffer.from(await rest.arrayBuffer()), body.subarray(body.length / 2));
      assert.equal(h.origin.hits.get(path), 2);
      const hit = await fetch(url + path);
      assert.equal(hit.status, 200);
      assert.match(hit.headers.get('cache-status')!, /; hit; ttl=/);
      assert.equal(hit.headers.get('content-length'), String(body.length));
      assert.deepEqual(Buffer.from(await hit.arrayBuffer()), body);
      assert.equal(h.origin.hits.get(path), 2);
      // An incomplete response asked for whole goes to the origin.
      const again = h.route(cutFirst());
      await getToTheEnd(url + again);
      const whole = await fetch(url + again);
      assert.equal(whole.status, 200);
      assert.deepEqual(Buffer.from(await whole.arrayBuffer()), body);
      assert.equal(h.origin.hits.get(again), 2);
      assert.match((await get(url + again)).headers.get('cache-status')!, /; hit/, 'the whole response replaced the incomplete one');
    },
  },
  {
    name: 'RFC 9111 §4.3.1, §4.3.4: stale stored ranges are revalidated with their strong ETag; a 304 freshens them and they answer the range',
    async run(h) {
      const body = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 101));
      const served = object(body, 'max-age=1');
      const conditionals: (string | undefined)[] = [];
      const path = h.route((req, res) => {
        if (req.headers.range !== undefined) conditionals.push(req.headers['if-none-match']);
        served(req, res);
      });
      const { url } = await h.edge({ maxObjectBytes: 32 * 1024 });
      await get(url + path, { range: 'bytes=0-999' });
      assert.match((await get(url + path, { range: 'bytes=0-9' })).headers.get('cache-status')!, /; hit; .*detail=partial/);
      await sleep(1100);
      const revalidated = await fetch(url + path, { headers: { range: 'bytes=10-19' } });
      assert.equal(revalidated.status, 206);
      assert.match(revalidated.headers.get('cache-status')!, /; fwd=stale; fwd-status=304; .*detail=partial/);
      assert.deepEqual(Buffer.from(await revalidated.arrayBuffer()), body.subarray(10, 20));
      assert.deepEqual(conditionals, [undefined, sha256Etag(body)], 'the range was asked for conditionally, with the stored strong ETag');
      assert.match((await get(url + path, { range: 'bytes=20-29' })).headers.get('cache-status')!, /; hit; .*detail=partial/, 'fresh again');
      assert.equal(conditionals.length, 2);
    },
  },
  {
    name: 'RFC 9111 §3.4: ranges with another strong validator are not combined (the newer replaces); weak validators and other variants are never used for a range',
    async run(h) {
      let version = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 13));
      let current = object(version);
      const path = h.route((req, res) => current(req, res));
      const { url } = await h.edge({ maxObjectBytes: 32 * 1024 });
      await get(url + path, { range: 'bytes=0-999' });
      const asked = h.origin.hits.get(path)!;
      version = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 17));
      current = object(version);
      await get(url + path, { range: 'bytes=5000-5999' });
      const old = await fetch(url + path, { headers: { range: 'bytes=0-99' } });
      assert.doesNotMatch(old.headers.get('cache-status')!, /; hit/, 'the old representation was replaced, not mixed in');
      assert.deepEqual(Buffer.from(await old.arrayBuffer()), version.subarray(0, 100));
      assert.equal(h.origin.hits.get(path), asked + 2);
      // A weak ETag names no single representation: nothing kept.
      const weak = h.route((req, res) => {
        const headers = { etag: 'W/"w"', 'cache-control': 'max-age=60' };
        if (req.headers.range === undefined) {
          res.writeHead(200, { ...headers, 'content-length': String(version.length) });
          res.end(version);
          return;
        }
        res.writeHead(206, { ...headers, 'content-range': 'bytes 0-9/100000', 'content-length': '10' });
        res.end(version.subarray(0, 10));
      });
      await get(url + weak, { range: 'bytes=0-9' });
      await get(url + weak, { range: 'bytes=0-9' });
      assert.equal(h.origin.hits.get(weak), 4, 'two full fetches, two ranges: the weak 206 was not kept');
      // A partial that varies serves only the viewers its varied fields select.
      const varied = h.route(object(version, 'public, max-age=60', { vary: 'accept-language' }));
      await get(url + varied, { range: 'bytes=0-999', 'accept-language': 'en' });
      const before = h.origin.hits.get(varied)!;
      assert.match((await get(url + varied, { range: 'bytes=0-9', 'accept-language': 'en' })).headers.get('cache-status')!, /detail=partial/);
      assert.doesNotMatch((await get(url + varied, { range: 'bytes=0-9', 'accept-language': 'fr' })).headers.get('cache-status')!, /; hit/);
      assert.equal(h.origin.hits.get(varied), before + 1);
    },
  },
  {
    name: 'RFC 9110 §15.6: an origin 5xx is relayed as it is (status and body) once every replica has been tried',
    async run(h) {
      const second = await startTestOrigin();
      try {
        const handler = reply(500, { 'content-type': 'text/plain', 'x-why': 'database' }, 'the database is down');
        const path = h.route(handler);
        second.route(path, handler);
        const { url } = await h.edge({ originUrls: [h.origin.url, second.url] });
        const response = await get(url + path);
        assert.equal(response.status, 500);
        assert.equal(response.body, 'the database is down');
        assert.equal(response.headers.get('x-why'), 'database');
        assert.match(response.headers.get('cache-status')!, /fwd=miss; fwd-status=500/);
        assert.equal((h.origin.hits.get(path) ?? 0) + (second.hits.get(path) ?? 0), 2, 'failover asked both replicas');
      } finally {
        await second.close();
      }
    },
  },
  {
    name: 'RFC 9110 §15.6.3: the edge answers 502 of its own only when no origin answered',
    async run(h) {
      const { url } = await h.edge({ originUrls: [await deadOriginUrl()] });
      const response = await get(`${url}/c/dead/object`);
      assert.equal(response.status, 502);
      assert.match(response.headers.get('cache-status')!, /; error|fwd=miss/);
    },
  },
  {
    name: 'RFC 5861 §4: a 503 from the origin is answered with the stale entry inside stale-if-error',
    async run(h) {
      let failing = false;
      const path = h.route((req, res) => {
        if (failing) reply(503, {}, 'busy')(req, res);
        else reply(200, { 'cache-control': 'max-age=1, stale-if-error=60' }, 'good')(req, res);
      });
      const { url } = await h.edge();
      await get(url + path);
      failing = true;
      await sleep(1100);
      const stale = await get(url + path);
      assert.equal(stale.status, 200);
      assert.equal(stale.body, 'good');
      assert.match(stale.headers.get('cache-status')!, /fwd=stale; fwd-status=503; .*detail=stale-if-error/);
    },
  },
  {
    name: 'RFC 9111 §4.3.1: a revalidation sends both If-None-Match and If-Modified-Since from the stored response',
    async run(h) {
      const lastModified = 'Thu, 01 Jan 2026 00:00:00 GMT';
      const seen: (string | undefined)[][] = [];
      const path = h.route((req, res) => {
        seen.push([req.headers['if-none-match'], req.headers['if-modified-since']]);
        if (req.headers['if-none-match'] === '"v1"') {
          res.writeHead(304, { etag: '"v1"', 'cache-control': 'max-age=1' });
          res.end();
          return;
        }
        reply(200, { etag: '"v1"', 'last-modified': lastModified, 'cache-control': 'max-age=1' }, 'body')(req, res);
      });
      const { url } = await h.edge();
      await get(url + path);
      await sleep(1100);
      const revalidated = await get(url + path);
      assert.equal(revalidated.body, 'body');
      assert.match(revalidated.headers.get('cache-status')!, /fwd=stale; fwd-status=304/);
      assert.deepEqual(seen, [[undefined, undefined], ['"v1"', lastModified]]);
    },
  },
  {
    name: 'RFC 9111 §4.3.1: an origin with only Last-Modified is revalidated with If-Modified-Since',
    async run(h) {
      const lastModified = new Date(Date.now() - 3_600_000).toUTCString();
      const path = h.route((req, res) => {
        if (req.headers['if-modified-since'] === lastModified) {
          res.writeHead(304, { 'last-modified': lastModified, 'cache-control': 'max-age=1' });
          res.end();
          return;
        }
        reply(200, { 'last-modified': lastModified, 'cache-control': 'max-age=1' }, 'dated')(req, res);
      });
      const { url } = await h.edge();
      await get(url + path);
      await sleep(1100);
      const revalidated = await get(url + path);
      assert.equal(revalidated.status, 200);
      assert.equal(revalidated.body, 'dated');
      assert.match(revalidated.headers.get('cache-status')!, /fwd=stale; fwd-status=304/);
    },
  },
  {
    name: 'RFC 9111 §4.3.4: a 304 whose ETag differs from the stored one updates nothing; the response is fetched whole',
    async run(h) {
      let version = 1;
      const path = h.route((req, res) => {
        if (req.headers['if-none-match'] !== undefined) {
          // A broken origin: "not modified", but naming another representation.
          res.writeHead(304, { etag: `"v${version}"`, 'cache-control': 'max-age=60' });
          res.end();
          return;
        }
        reply(200, { etag: `"v${version}"`, 'cache-control': 'max-age=1' }, `body v${version}`)(req, res);
      });
      const { edge, url } = await h.edge();
      await get(url + path);
      version = 2;
      await sleep(1100);
      const response = await get(url + path);
      assert.equal(response.body, 'body v2', 'never the v1 body relabelled as v2');
      assert.equal(response.headers.get('etag'), '"v2"');
      const stored = edge.services.store.peek(path);
      assert.equal(stored && selectVariant(stored, undefined)?.etag, '"v2"');
      assert.equal(h.origin.hits.get(path), 3, 'the conditional request, then an unconditional one');
    },
  },
  {
    name: 'RFC 9110 §13.1.3, RFC 9111 §4.3.2: a viewer\'s If-Modified-Since on a hit is answered 304 from the stored Last-Modified',
    async run(h) {
      const lastModified = 'Thu, 01 Jan 2026 00:00:00 GMT';
      const path = h.route(reply(200, { 'last-modified': lastModified, 'cache-control': 'max-age=600' }, 'x'));
      const { url } = await h.edge();
      await get(url + path);
      const notModified = await get(url + path, { 'if-modified-since': lastModified });
      assert.equal(notModified.status, 304);
      assert.match(notModified.headers.get('cache-status')!, /; hit/);
      const modified = await get(url + path, { 'if-modified-since': 'Wed, 31 Dec 2025 00:00:00 GMT' });
      assert.equal(modified.status, 200);
      assert.equal((await get(url + path, { 'if-modified-since': 'not a date' })).status, 200, 'an invalid date is ignored');
      assert.equal(h.origin.hits.get(path), 1);
    },
  },
  {
    name: 'RFC 9111 §4.3.2: without Last-Modified, If-Modified-Since is compared with the stored Date',
    async run(h) {
      const date = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000).toUTCString();
      const path = h.route(reply(200, { date, 'cache-control': 'max-age=600' }, 'x'));
      const { url } = await h.edge();
      await get(url + path);
      assert.equal((await get(url + path, { 'if-modified-since': date })).status, 304);
    },
  },
  {
    name: 'RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since',
    async run(h) {
      const lastModified = 'Thu, 01 Jan 2026 00:00:00 GMT';
      const path = h.route(reply(200, { etag: '"v1"', 'last-modified': lastModified, 'cache-control': 'max-age=600' }, 'x'));
      const { url } = await h.edge();
      const miss = await get(url + path, { 'if-none-match': '"other"', 'if-modified-since': lastModified });
      assert.equal(miss.status, 200, 'on a miss too');
      const hit = await get(url + path, { 'if-none-match': '"other"', 'if-modified-since': lastModified });
      assert.equal(hit.status, 200);
      assert.equal((await get(url + path, { 'if-none-match': '"v1"', 'if-modified-since': 'Wed, 31 Dec 2025 00:00:00 GMT' })).status, 304);
    },
  },
  {
    name: 'RFC 9110 §7.6: end-to-end request fields reach the origin; hop-by-hop and Connection-listed ones do not; Via and X-Forwarded-* added',
    async run(h) {
      let seen: Record<string, string | string[] | undefined> = {};
      const path = h.route((req, res) => {
        seen = req.headers;
        reply(200, { 'cache-control': 'no-store' }, 'x')(req, res);
      });
      const { url } = await h.edge();
      const response = await new Promise<number>((resolve, reject) => {
        const request = httpRequest(url + path, {
          headers: { 'accept-language': 'fr', 'x-trace': 't-1', 'user-agent': 'player/1', connection: 'keep-alive, x-hop', 'x-hop': 'secret', cookie: 'id=viewer' },
        }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        request.on('error', reject);
        request.end();
      });
      assert.equal(response, 200);
      assert.equal(seen['accept-language'], 'fr');
      assert.equal(seen['x-trace'], 't-1');
      assert.equal(seen['user-agent'], 'player/1');
      assert.equal(seen['x-hop'], undefined, 'a field the viewer\'s Connection lists is not forwarded');
      assert.equal(seen.cookie, undefined, 'cookies stay out by default (configurable)');
      assert.equal(seen.via, '1.1 streamedge-edge-c');
      assert.equal(seen['x-forwarded-for'], '127.0.0.1');
      assert.equal(seen['x-forwarded-proto'], 'http');
    },
  },
  {
    name: 'RFC 9110 §7.6.1: a response field its Connection lists is never stored or replayed',
    async run(h) {
      const path = h.route(reply(200, { 'cache-control': 'max-age=60', connection: 'x-hop', 'x-hop': 'secret', 'x-kept': 'yes' }, 'x'));
      const { url } = await h.edge();
      for (const response of [await get(url + path), await get(url + path)]) {
        assert.equal(response.headers.get('x-hop'), null);
        assert.equal(response.headers.get('x-kept'), 'yes');
      }
      assert.equal(h.origin.hits.get(path), 1);
    },
  },
  {
    name: 'RFC 9111 §4.1: a response that varies is not reused for a viewer whose varied field differs',
    async run(h) {
      const path = h.route((req, res) => reply(200, { 'cache-control': 'max-age=60', vary: 'Accept-Language' }, `in ${req.headers['accept-language'] ?? 'none'}`)(req, res));
      const { url } = await h.edge();
      assert.equal((await get(url + path, { 'accept-language': 'fr' })).body, 'in fr');
      assert.equal((await get(url + path, { 'accept-language': 'de' })).body, 'in de');
      assert.equal(h.origin.hits.get(path), 2);
    },
  },
  {
    name: 'RFC 9111 §4.1: variants of a URL are stored side by side, each served to the viewers whose varied fields (normalised) select it',
    async run(h) {
      const path = h.route((req, res) => reply(200, { 'cache-control': 'max-age=60', vary: 'Accept-Language, X-Tier' }, `${req.headers['accept-language']}/${req.headers['x-tier'] ?? 'none'}`)(req, res));
      const { url } = await h.edge();
      const ask = async (language: string, tier?: string): Promise<[string, boolean]> => {
        const response = await get(url + path, { 'accept-language': language, ...(tier === undefined ? {} : { 'x-tier': tier }) });
        return [response.body, /; hit/.test(response.headers.get('cache-status')!)];
      };
      assert.deepEqual(await ask('fr', 'gold'), ['fr/gold', false]);
      assert.deepEqual(await ask('de', 'gold'), ['de/gold', false]);
      assert.deepEqual(await ask('fr', 'gold'), ['fr/gold', true], 'the first variant is still there');
      assert.deepEqual(await ask('de', '  gold '), ['de/gold', true], 'whitespace trimmed');
      assert.deepEqual(await ask('fr', 'gold, silver'), ['fr/gold, silver', false]);
      assert.deepEqual(await ask('fr', 'gold ,  silver'), ['fr/gold, silver', true], 'list commas compared without spaces');
      assert.deepEqual(await ask('fr'), ['fr/none', false], 'an absent field is a value of its own');
      assert.deepEqual(await ask('fr', ''), ['fr/', false], 'an empty field is not an absent one');
      assert.equal(h.origin.hits.get(path), 5);
    },
  },
  {
    name: 'RFC 9111 §4.1: variants per URL are bounded (the oldest pushed out), and purging the URL removes them all',
    async run(h) {
      const path = h.route((req, res) => reply(200, { 'cache-control': 'max-age=60', vary: 'x-tier' }, `tier ${req.headers['x-tier']}`)(req, res));
      const { edge, url } = await h.edge();
      const hit = async (tier: number): Promise<boolean> => {
        const response = await get(url + path, { 'x-tier': `t${tier}` });
        assert.equal(response.body, `tier t${tier}`);
        return /; hit/.test(response.headers.get('cache-status')!);
      };
      for (let tier = 0; tier < 10; tier++) assert.equal(await hit(tier), false);
      const stored = edge.services.store.peek(path);
      assert.equal(stored && 'kind' in stored && stored.kind === 'variants' ? stored.entries.length : 0, 8, 'eight variants kept');
      assert.equal(await hit(9), true);
      assert.equal(await hit(2), true);
      assert.equal(await hit(0), false, 'the oldest variants were pushed out');
      assert.equal(h.origin.hits.get(path), 11);
      assert.equal(edge.purgeLocal({ key: path }), 1);
      assert.equal(edge.services.store.has(path), false);
      assert.equal(await hit(9), false, 'no variant survives the purge');
    },
  },
  {
    name: 'RFC 9111 §4.1, §4.3: a stale variant is revalidated with its own validators, and the other variants stay',
    async run(h) {
      const seen: (string | undefined)[] = [];
      const path = h.route((req, res) => {
        const language = req.headers['accept-language'];
        seen.push(req.headers['if-none-match']);
        const headers = { 'cache-control': 'max-age=1', vary: 'accept-language', etag: `"${language}"` };
        if (req.headers['if-none-match'] === `"${language}"`) {
          res.writeHead(304, headers);
          res.end();
          return;
        }
        reply(200, headers, `in ${language}`)(req, res);
      });
      const { url } = await h.edge();
      await get(url + path, { 'accept-language': 'fr' });
      await get(url + path, { 'accept-language': 'de' });
      await sleep(1100);
      for (const language of ['fr', 'de']) {
        const revalidated = await get(url + path, { 'accept-language': language });
        assert.equal(revalidated.body, `in ${language}`);
        assert.match(revalidated.headers.get('cache-status')!, /fwd=stale; fwd-status=304/);
      }
      assert.deepEqual(seen, [undefined, undefined, '"fr"', '"de"']);
      assert.match((await get(url + path, { 'accept-language': 'fr' })).headers.get('cache-status')!, /; hit/);
    },
  },
  {
    name: 'RFC 9111 §4.1: Vary: * never matches, not even for viewers sharing the same fetch',
    async run(h) {
      let release: () => void = () => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      const path = h.route((req, res) => void released.then(() => reply(200, { 'cache-control': 'max-age=60', vary: '*' }, 'x')(req, res)));
      const { url } = await h.edge({ coalesceWaitMs: 5000 });
      const first = get(url + path);
      await sleep(50);
      const second = get(url + path);
      await sleep(50);
      release();
      assert.deepEqual([(await first).body, (await second).body], ['x', 'x']);
      assert.equal(h.origin.hits.get(path), 2, 'the collapsed viewer asked for its own');
    },
  },
  {
    name: 'RFC 9111 §3.5: with Authorization forwarded, a response is stored only when it says it may be shared',
    async run(h) {
      const privatePath = h.route((req, res) => reply(200, { 'cache-control': 'max-age=60' }, `for ${req.headers.authorization ?? 'nobody'}`)(req, res));
      const sharedPath = h.route((req, res) => reply(200, { 'cache-control': 'public, max-age=60' }, `for ${req.headers.authorization ?? 'nobody'}`)(req, res));
      const { url } = await h.edge({ strippedRequestHeaders: ['cookie'] });
      const alice = { authorization: 'Bearer alice' };
      const bob = { authorization: 'Bearer bob' };
      const first = await get(url + privatePath, alice);
      assert.equal(first.body, 'for Bearer alice');
      assert.match(first.headers.get('cache-status') ?? '', /detail=authorization/);
      assert.equal((await get(url + privatePath, bob)).body, 'for Bearer bob', "Bob never gets Alice's response");
      assert.equal(h.origin.hits.get(privatePath), 2);
      assert.equal((await get(url + sharedPath, alice)).body, 'for Bearer alice');
      assert.equal((await get(url + sharedPath, bob)).body, 'for Bearer alice', 'public: the origin said it may be shared');
      assert.equal(h.origin.hits.get(sharedPath), 1);
    },
  },
  {
    name: 'RFC 9111 §3.5: viewers with different credentials never share one in-flight fetch',
    async run(h) {
      let release: () => void = () => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      const path = h.route((req, res) => void released.then(() => reply(200, { 'cache-control': 'max-age=60' }, `for ${req.headers.authorization ?? 'nobody'}`)(req, res)));
      const { url } = await h.edge({ strippedRequestHeaders: ['cookie'], coalesceWaitMs: 5000 });
      const alice = get(url + path, { authorization: 'Bearer alice' });
      await sleep(50);
      const bob = get(url + path, { authorization: 'Bearer bob' });
      await sleep(50);
      release();
      assert.deepEqual([(await alice).body, (await bob).body], ['for Bearer alice', 'for Bearer bob']);
      assert.equal(h.origin.hits.get(path), 2);
    },
  },
  {
    name: 'RFC 9111 §3.5: with Authorization stripped (the default), the origin never sees it and the response is shared',
    async run(h) {
      const path = h.route((req, res) => reply(200, { 'cache-control': 'max-age=60' }, `for ${req.headers.authorization ?? 'nobody'}`)(req, res));
      const { url } = await h.edge();
      assert.equal((await get(url + path, { authorization: 'Bearer alice' })).body, 'for nobody');
      assert.equal((await get(url + path, { authorization: 'Bearer bob' })).body, 'for nobody');
      assert.equal(h.origin.hits.get(path), 1);
    },
  },
  {
    name: 'RFC 9213 §2.1: a CDN-Cache-Control that fails to parse as a Dictionary is ignored, and Cache-Control governs',
    async run(h) {
      const invalid = h.route(reply(200, { 'cache-control': 'no-store', 'cdn-cache-control': 'Max-Age=600' }, 'x'));
      const valid = h.route(reply(200, { 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=600' }, 'x'));
      const { url } = await h.edge();
      for (let i = 0; i < 2; i++) for (const path of [invalid, valid]) await get(url + path);
      assert.equal(h.origin.hits.get(invalid), 2, 'Cache-Control: no-store governed');
      assert.equal(h.origin.hits.get(valid), 1, 'a valid CDN-Cache-Control still overrides it');
    },
  },
  {
    name: 'RFC 9111 §4.4, RFC 9110 §9.2.1: a POST passes through with its body, is never stored, and its 2xx invalidates the URL and a same-origin Location',
    async run(h) {
      let version = 1;
      const seen: string[] = [];
      const other = h.route((req, res) => reply(200, { 'cache-control': 'max-age=60' }, `other v${version}`)(req, res));
      const path = h.route((req, res) => {
        if (req.method === 'GET') {
          reply(200, { 'cache-control': 'max-age=60' }, `v${version}`)(req, res);
          return;
        }
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (chunk: string) => (body += chunk));
        req.on('end', () => {
          seen.push(`${req.method} ${body} ${req.headers['content-type']}`);
          version++;
          reply(201, { 'cache-control': 'max-age=60', location: other }, `created from ${body}`)(req, res);
        });
      });
      const { url } = await h.edge();
      for (const target of [path, other, path, other]) await get(url + target);
      assert.equal(h.origin.hits.get(path), 1);
      const posted = await fetch(url + path, { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } });
      assert.equal(posted.status, 201);
      assert.equal(await posted.text(), 'created from hello');
      assert.match(posted.headers.get('cache-status')!, /; fwd=bypass; fwd-status=201; detail=method/);
      assert.deepEqual(seen, ['POST hello text/plain']);
      const after = await get(url + path);
      assert.equal(after.body, 'v2', 'the stored v1 was invalidated');
      assert.match(after.headers.get('cache-status')!, /fwd=miss/);
      assert.equal((await get(url + other)).body, 'other v2', 'so was the same-origin Location');
      const again = await fetch(url + path, { method: 'POST', body: 'again' });
      assert.equal(await again.text(), 'created from again', 'the POST answer itself was never stored');
    },
  },
  {
    name: 'RFC 9111 §4.4: PUT, DELETE and PATCH pass through; an error answer invalidates nothing, a 2xx does',
    async run(h) {
      let version = 1;
      const path = h.route((req, res) => {
        if (req.method === 'GET') reply(200, { 'cache-control': 'max-age=60' }, `v${version}`)(req, res);
        else if (req.method === 'PUT') reply(409, {}, 'conflict')(req, res);
        else {
          version++;
          reply(req.method === 'DELETE' ? 204 : 200, {}, req.method === 'DELETE' ? '' : 'patched')(req, res);
        }
      });
      const { url } = await h.edge();
      await get(url + path);
      const put = await fetch(url + path, { method: 'PUT', body: 'x' });
      assert.equal(put.status, 409);
      assert.equal(await put.text(), 'conflict');
      assert.match((await get(url + path)).headers.get('cache-status')!, /; hit/, 'a 4xx invalidates nothing');
      const patch = await fetch(url + path, { method: 'PATCH', body: 'y' });
      assert.equal(await patch.text(), 'patched');
      assert.equal((await get(url + path)).body, 'v2');
      assert.equal((await fetch(url + path, { method: 'DELETE' })).status, 204);
      assert.equal((await get(url + path)).body, 'v3');
      assert.equal(h.origin.hits.get(path), 6);
    },
  },
  {
    name: 'RFC 9110 §15.5.14: a request body past the configured limit gets 413, whether declared or streamed; the limit is checked at start-up',
    async run(h) {
      assert.throws(() => createEdge({ id: 'edge-c', logger: silent, cacheBytes: 1 << 20, maxObjectBytes: 1 << 10, originUrls: [h.origin.url], maxRequestBodyBytes: -1 }), /maxRequestBodyBytes/);
      const path = h.route((req, res) => {
        req.resume();
        req.on('end', () => reply(200, {}, 'accepted')(req, res));
      });
      const { url } = await h.edge({ maxRequestBodyBytes: 10 });
      assert.equal(await (await fetch(url + path, { method: 'POST', body: '0123456789' })).text(), 'accepted', 'up to the limit');
      const declared = await fetch(url + path, { method: 'POST', body: '0123456789x' });
      assert.equal(declared.status, 413);
      assert.match(await declared.text(), /larger than 10 bytes/);
      assert.equal(h.origin.hits.get(path), 1, 'a declared oversize body never reaches the origin');
      const streamed = await new Promise<number>((resolve, reject) => {
        const request = httpRequest(url + path, { method: 'PUT' }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        request.on('error', reject);
        request.write('0123456');
        setTimeout(() => request.end('789abcdef'), 50);
      });
      assert.equal(streamed, 413);
    },
  },
  {
    name: 'RFC 9110 §9.3.6, §9.3.8, §15.6.2: CONNECT and TRACE get 405, a method the edge does not implement 501, each with a short reason',
    async run(h) {
      const { url } = await h.edge();
      const ask = (method: string): Promise<[number, string, string | undefined]> =>
        new Promise((resolve, reject) => {
          const request = httpRequest(url + '/c/any', { method });
          const answer = (res: IncomingMessage): void => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () => resolve([res.statusCode!, text.trim(), res.headers.allow]));
          };
          request.on('response', answer);
          request.on('connect', (res, socket) => {
            socket.resume();
            resolve([res.statusCode!, '', res.headers.allow]);
          });
          request.on('error', reject);
          request.end();
        });
      const allow = 'GET, HEAD, OPTIONS, POST, PUT, DELETE, PATCH';
      assert.deepEqual(await ask('TRACE'), [405, 'method TRACE not allowed', allow]);
      assert.deepEqual(await ask('PROPFIND'), [501, 'method PROPFIND not implemented', allow]);
      assert.deepEqual(await ask('CONNECT'), [405, '', allow]);
    },
  },
  {
    name: 'RFC 9112 §6.3 item 8: a close-delimited body is stored only when the origin closed cleanly and a hash ETag matches; a reset mid-way stores nothing and cuts the viewer',
    async run(h) {
      const body = Buffer.alloc(64 * 1024, 7);
      let asked = 0;
      const path = h.route(rawSocket((socket) => {
        asked++;
        if (asked === 1) {
          // A quarter of the body, then a reset: to the edge a close-delimited body that just ends.
          socket.write(closeDelimitedHead() + body.subarray(0, body.length / 4).toString('latin1'), 'latin1');
          setTimeout(() => socket.resetAndDestroy(), 100);
          return;
        }
        socket.end(Buffer.concat([Buffer.from(closeDelimitedHead(), 'latin1'), body]));
      }));
      const { url } = await h.edge();
      const dropped = await getToTheEnd(url + path);
      assert.equal(dropped.status, 200);
      assert.equal(dropped.complete, false, `the viewer saw a short body end cleanly (${dropped.bytes} bytes)`);
      const whole = await get(url + path);
      assert.equal(whole.status, 200);
      assert.equal(Buffer.byteLength(whole.body, 'latin1'), body.length);
      assert.equal(h.origin.hits.get(path), 2, 'the reset body was not stored');
      const hit = await get(url + path);
      assert.match(hit.headers.get('cache-status')!, /; hit/, 'the cleanly closed body was stored');
      assert.equal(h.origin.hits.get(path), 2);
      // A clean close after half the body: only a hash ETag can tell, and then nothing is stored.
      const hashed = Buffer.alloc(64 * 1024, 9);
      const halfPath = h.route(rawSocket((socket) => {
        socket.end(Buffer.concat([Buffer.from(closeDelimitedHead(`etag: ${sha256Etag(hashed)}\r\n`), 'latin1'), hashed.subarray(0, hashed.length / 2)]));
      }));
      assert.equal((await getToTheEnd(url + halfPath)).complete, false, 'the viewer saw half a hashed body end cleanly');
      await getToTheEnd(url + halfPath);
      assert.equal(h.origin.hits.get(halfPath), 2, 'the half body was not stored');
    },
  },
  {
    name: 'RFC 9110 §15.2: a 103 Early Hints from the origin is relayed before the final response and never stored; a malformed one is dropped harmlessly',
    async run(h) {
      const path = h.route((_req, res) => {
        res.writeEarlyHints({ link: '</c/next.ts>; rel=preload; as=fetch' });
        setTimeout(() => reply(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' }, 'final')(_req, res), 50);
      });
      const { url } = await h.edge();
      const miss = await getWithInterim(url + path);
      assert.deepEqual(miss.interim.map((i) => [i.status, i.headers.link]), [[103, '</c/next.ts>; rel=preload; as=fetch']]);
      assert.equal(miss.status, 200);
      assert.equal(miss.body, 'final');
      assert.equal(miss.headers.link, undefined, 'the hint is not part of the final response');
      const hit = await getWithInterim(url + path);
      assert.match(String(hit.headers['cache-status']), /; hit/);
      assert.deepEqual(hit.interim, [], 'a stored response has no interim response to replay');
      assert.equal(hit.headers.link, undefined);
      assert.equal(hit.body, 'final');
      // A 103 whose Link Node would refuse to write, then the final response on the same connection.
      const bad = h.route(rawSocket((socket) => {
        socket.write('HTTP/1.1 103 Early Hints\r\nlink: not a link\r\n\r\n');
        setTimeout(() => socket.write('HTTP/1.1 200 OK\r\ncache-control: max-age=60\r\ncontent-length: 2\r\n\r\nok'), 30);
      }));
      const answered = await getWithInterim(url + bad);
      assert.deepEqual([answered.status, answered.body, answered.interim], [200, 'ok', []]);
      assert.equal(answered.headers.link, undefined);
      assert.match(String((await getWithInterim(url + bad)).headers['cache-status']), /; hit/);
    },
  },
];

describe('HTTP caching conformance (RFC 9111, RFC 9110), real edge, scripted origin', () => {
  let origin: TestOrigin;
  let edges: Edge[] = [];
  let next = 0;
  before(async () => {
    origin = await startTestOrigin();
  });
  after(async () => {
    await origin.close();
  });
  const harness: Harness = {
    get origin() {
      return origin;
    },
    async edge(options = {}) {
      const edge = createEdge({ id: 'edge-c', logger: silent, cacheBytes: 16 * 1024 * 1024, maxObjectBytes: 1024 * 1024, originUrls: [origin.url], hedgeDelayMs: 0, ...options });
      edges.push(edge);
      return { edge, url: await edge.listen(0, '127.0.0.1') };
    },
    route(handler) {
      const path = `/c/${++next}/object`;
      origin.route(path, handler);
      return path;
    },
  };
  for (const testCase of cases) {
    it(testCase.name, async () => {
      try {
        await testCase.run(harness);
      } finally {
        await Promise.all(edges.map((edge) => edge.close(500)));
        edges = [];
      }
    });
  }
});
