import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { createEdge, type Edge } from '../edge-server.js';
import { object, sha256Etag, startTestOrigin, type TestOrigin } from './test-origin.js';

const silent = pino({ level: 'silent' });

interface RawResponse {
  readonly status: number;
  /** Field lines as sent, in order, name case kept. */
  readonly fields: readonly (readonly [string, string])[];
  readonly body: Buffer;
  header(name: string): string | undefined;
}

/** One kept-alive connection spoken to in raw bytes, so pipelining and odd framing can be sent. */
class RawConnection {
  private buffered = Buffer.alloc(0);
  private closed = false;
  private wake: () => void = () => {};

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static open(url: string): Promise<RawConnection> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  send(text: string): void {
    this.socket.write(Buffer.from(text, 'latin1'));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Waits until `bytes` are buffered (or the connection closes). */
  private async fill(bytes: number): Promise<void> {
    while (this.buffered.length < bytes && !this.closed) await new Promise<void>((resolve) => (this.wake = resolve));
    if (this.buffered.length < bytes) throw new Error(`connection closed with ${this.buffered.length} of ${bytes} bytes`);
  }

  async read(options: { bodyless?: boolean } = {}): Promise<RawResponse> {
    let end = this.buffered.indexOf('\r\n\r\n');
    while (end === -1) {
      await this.fill(this.buffered.length + 1);
      end = this.buffered.indexOf('\r\n\r\n');
    }
    const [statusLine, ...lines] = this.buffered.toString('latin1', 0, end).split('\r\n');
    const fields = lines.map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()] as const);
    const header = (name: string): string | undefined => fields.find(([field]) => field.toLowerCase() === name)?.[1];
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine!)?.[1]);
    const length = options.bodyless || status === 304 ? 0 : Number(header('content-length') ?? 0);
    await this.fill(end + 4 + length);
    const body = this.buffered.subarray(end + 4, end + 4 + length);
    this.buffered = this.buffered.subarray(end + 4 + length);
    return { status, fields, body: Buffer.from(body), header };
  }

  /** Resolves when the server closes the connection; fails after `timeoutMs` rather than hang. */
  async closedByServer(timeoutMs = 10_000): Promise<void> {
    const deadline = setTimeout(() => this.wake(), timeoutMs);
    const started = performance.now();
    while (!this.closed) {
      if (performance.now() - started >= timeoutMs) throw new Error(`connection still open after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    clearTimeout(deadline);
  }

  close(): void {
    this.socket.destroy();
  }
}

function bytes(size: number, seed: number): Buffer {
  const body = Buffer.alloc(size);
  for (let i = 0; i < size; i++) body[i] = (i * 7 + seed) & 0xff;
  return body;
}

/** Fields sorted by name, the values of `masked` ones (which tick between reads) and Cache-Status ttl hidden. */
function comparableFields(response: RawResponse, masked: RegExp): string[][] {
  return response.fields.map(([name, value]) => [name.toLowerCase(), masked.test(name) ? '…' : value.replace(/ttl=\d+/, 'ttl=…')]).sort((a, b) => a[0]!.localeCompare(b[0]!));
}

const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: edge\r\n${extra}\r\n`;

async function fastPathHits(edge: Edge): Promise<number> {
  const text = await edge.metrics.registry.metrics();
  return Number(/^streamedge_edge_fast_path_hits_total (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

describe('hit fast path', () => {
  let origin: TestOrigin;
  let edge: Edge;
  let url: string;
  const small = bytes(1200, 1);
  const large = bytes(1024 * 1024, 2);
  const other = bytes(3000, 3);
  before(async () => {
    origin = await startTestOrigin();
    origin.route('/vod/fast/index.m3u8', object(small, 'public, max-age=600', { 'content-type': 'application/vnd.apple.mpegurl' }));
    origin.route('/vod/fast/seg-00000.ts', object(large, 'public, max-age=600'));
    origin.route('/vod/fast/seg-00001.ts', object(other, 'public, max-age=600'));
    origin.route('/vod/fast/seg-00002.ts', object(bytes(500, 4), 'public, max-age=600'));
    edge = createEdge({ id: 'edge-fast', logger: silent, cacheBytes: 64 * 1024 * 1024, maxObjectBytes: 8 * 1024 * 1024, originUrls: [origin.url] });
    url = await edge.listen(0, '127.0.0.1');
    // Warm the cache through node:http (a miss never takes the fast path).
    for (const path of ['/vod/fast/index.m3u8', '/vod/fast/seg-00000.ts']) await (await fetch(`${url}${path}`)).arrayBuffer();
  });
  after(async () => {
    await edge.close(1000);
    await origin.close();
  });

  /**
   * The same GET on this edge's fast path and on a second edge with the fast path off (both warmed
   * through node:http first); how many fast-path hits it added on each.
   */
  async function readOnBothPaths(path: string, headers: Record<string, string> = {}): Promise<{ viaFastPath: RawResponse; viaHttp: RawResponse; fastHits: number; plainFastHits: number }> {
    const plain = createEdge({ id: 'edge-fast', logger: silent, cacheBytes: 8 * 1024 * 1024, maxObjectBytes: 1024 * 1024, originUrls: [origin.url], fastHits: false });
    const plainUrl = await plain.listen(0, '127.0.0.1');
    const fast = await RawConnection.open(url);
    const slow = await RawConnection.open(plainUrl);
    try {
      await (await fetch(`${url}${path}`, { headers })).arrayBuffer();
      await (await fetch(`${plainUrl}${path}`, { headers })).arrayBuffer();
      const hitsBefore = await fastPathHits(edge);
      const fields = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
      fast.send(get(path, fields));
      slow.send(get(path, fields));
      const [viaFastPath, viaHttp] = [await fast.read(), await slow.read()];
      return { viaFastPath, viaHttp, fastHits: (await fastPathHits(edge)) - hitsBefore, plainFastHits: await fastPathHits(plain) };
    } finally {
      fast.close();
      slow.close();
      await plain.close(1000);
    }
  }

  it('answers a fresh hit with the same status, headers and body as node:http does', async () => {
    const { viaFastPath, viaHttp, fastHits, plainFastHits } = await readOnBothPaths('/vod/fast/index.m3u8');
    assert.equal(fastHits, 1, 'answered on the fast path');
    assert.equal(plainFastHits, 0, 'the other edge has the fast path off');
    assert.equal(viaFastPath.status, 200);
    assert.ok(viaFastPath.body.equals(small));
    assert.ok(viaHttp.body.equals(small));
    // Same fields with the same values; Date and Age may tick between the two reads.
    const comparable = (response: RawResponse): string[][] => comparableFields(response, /^(date|age)$/i);
    assert.deepEqual(comparable(viaFastPath), comparable(viaHttp));
    assert.match(viaFastPath.header('cache-status')!, /^streamedge-edge-fast; hit; ttl=\d+$/);
  });

  it('HTTP cache rules are the same on both paths, field by field: stored Date, Age from the origin (RFC 9111 §4.2.3)', async () => {
    const originDate = new Date(Math.floor(Date.now() / 1000) * 1000 - 10_000).toUTCString();
    origin.route('/vod/fast/rules.m3u8', object(bytes(700, 9), 'public, max-age=600', { 'content-type': 'application/vnd.apple.mpegurl', date: originDate, age: '100' }));
    const { viaFastPath, viaHttp, fastHits } = await readOnBothPaths('/vod/fast/rules.m3u8');
    assert.equal(fastHits, 1, 'answered on the fast path');
    for (const response of [viaFastPath, viaHttp]) {
      assert.equal(response.status, 200);
      assert.deepEqual(response.fields.filter(([name]) => name.toLowerCase() === 'date').map(([, value]) => value), [originDate], 'one Date: the stored one');
      const age = Number(response.header('age'));
      assert.ok(age >= 100 && age < 110, `Age ${age}: the larger of the origin's Age (100) and the apparent age (10 s)`);
    }
    assert.ok(Math.abs(Number(viaFastPath.header('age')) - Number(viaHttp.header('age'))) <= 1);
    const comparable = (response: RawResponse): string[][] => comparableFields(response, /^age$/i);
    assert.deepEqual(comparable(viaFastPath), comparable(viaHttp));
  });

  it('a stored response of another status (a cached 404, RFC 9111 §3) is left to node:http, and both paths send the same', async () => {
    // One Date for both edges' fetches, so the comparison cannot straddle a second.
    const originDate = new Date(Math.floor(Date.now() / 1000) * 1000).toUTCString();
    origin.route('/vod/fast/gone.m3u8', (_req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain', 'cache-control': 'max-age=600', 'content-length': '4', date: originDate });
      res.end('gone');
    });
    const { viaFastPath, viaHttp, fastHits } = await readOnBothPaths('/vod/fast/gone.m3u8');
    assert.equal(fastHits, 0, 'not on the fast path: its status line says 200');
    for (const response of [viaFastPath, viaHttp]) {
      assert.equal(response.status, 404);
      assert.equal(response.body.toString(), 'gone');
      assert.match(response.header('cache-status')!, /; hit; ttl=/);
      assert.equal(response.header('accept-ranges'), undefined);
    }
    const comparable = (response: RawResponse): string[][] => comparableFields(response, /^age$/i);
    assert.deepEqual(comparable(viaFastPath), comparable(viaHttp));
  });

  it('a stored response that varies (RFC 9111 §4.1) is left to node:http, which serves the matching variant; both paths send the same', async () => {
    // One Date for both edges' fetches, so the comparison cannot straddle a second.
    const originDate = new Date(Math.floor(Date.now() / 1000) * 1000).toUTCString();
    origin.route('/vod/fast/varies.m3u8', (req, res) => {
      const body = `in ${req.headers['accept-language']}`;
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=600', vary: 'Accept-Language', 'content-length': String(body.length), date: originDate });
      res.end(body);
    });
    const { viaFastPath, viaHttp, fastHits } = await readOnBothPaths('/vod/fast/varies.m3u8', { 'accept-language': 'fr' });
    assert.equal(fastHits, 0, 'not on the fast path: it cannot tell variants apart');
    for (const response of [viaFastPath, viaHttp]) {
      assert.equal(response.status, 200);
      assert.equal(response.body.toString(), 'in fr');
      assert.equal(response.header('vary'), 'Accept-Language');
      assert.match(response.header('cache-status')!, /; hit; ttl=/);
    }
    const comparable = (response: RawResponse): string[][] => comparableFields(response, /^age$/i);
    assert.deepEqual(comparable(viaFastPath), comparable(viaHttp));
  });

  it('If-Modified-Since takes the full path, which answers 304 from the stored Last-Modified (RFC 9110 §13.1.3)', async () => {
    const lastModified = 'Thu, 01 Jan 2026 00:00:00 GMT';
    origin.route('/vod/fast/dated.m3u8', object(bytes(300, 5), 'public, max-age=600', { 'last-modified': lastModified }));
    await (await fetch(`${url}/vod/fast/dated.m3u8`)).arrayBuffer();
    const connection = await RawConnection.open(url);
    try {
      const hitsBefore = await fastPathHits(edge);
      connection.send(get('/vod/fast/dated.m3u8', `If-Modified-Since: ${lastModified}\r\n`));
      const response = await connection.read();
      assert.equal(response.status, 304);
      assert.equal(await fastPathHits(edge), hitsBefore, 'not on the fast path');
    } finally {
      connection.close();
    }
  });

  it('answers pipelined requests in order, handing the connection to node:http at the first it does not serve', async () => {
    const connection = await RawConnection.open(url);
    try {
      const missesBefore = origin.hits.get('/vod/fast/seg-00001.ts') ?? 0;
      connection.send(
        get('/vod/fast/index.m3u8') +
          get('/vod/fast/seg-00001.ts') + // a miss: node:http from here on
          get('/vod/fast/index.m3u8', 'Range: bytes=10-19\r\n') +
          get('/vod/fast/index.m3u8', `If-None-Match: ${sha256Etag(small)}\r\n`) +
          `HEAD /vod/fast/seg-00000.ts HTTP/1.1\r\nHost: edge\r\n\r\n` +
          get('/vod/fast/seg-00000.ts'),
      );
      const hit = await connection.read();
      assert.equal(hit.status, 200);
      assert.ok(hit.body.equals(small));
      const miss = await connection.read();
      assert.equal(miss.status, 200);
      assert.match(miss.header('cache-status')!, /; fwd=miss/);
      assert.ok(miss.body.equals(other));
      const partial = await connection.read();
      assert.equal(partial.status, 206);
      assert.ok(partial.body.equals(small.subarray(10, 20)));
      const notModified = await connection.read();
      assert.equal(notModified.status, 304);
      const head = await connection.read({ bodyless: true });
      assert.equal(head.status, 200);
      assert.equal(head.header('content-length'), String(large.length));
      const whole = await connection.read();
      assert.ok(whole.body.equals(large));
      assert.equal(origin.hits.get('/vod/fast/seg-00001.ts'), missesBefore + 1);
    } finally {
      connection.close();
    }
  });

  it('answers HEAD on the fast path without a body, and keeps the connection', async () => {
    const connection = await RawConnection.open(url);
    try {
      const hitsBefore = await fastPathHits(edge);
      connection.send(`HEAD /vod/fast/index.m3u8 HTTP/1.1\r\nHost: edge\r\n\r\n${get('/vod/fast/index.m3u8')}`);
      const head = await connection.read({ bodyless: true });
      assert.equal(head.header('content-length'), String(small.length));
      assert.ok((await connection.read()).body.equals(small), 'the next response starts right after the head');
      assert.equal(await fastPathHits(edge), hitsBefore + 2);
    } finally {
      connection.close();
    }
  });

  it('reads a head split across packets through node:http', async () => {
    const connection = await RawConnection.open(url);
    try {
      connection.send('GET /vod/fast/index.m3u8 HTTP/1.1\r\nHo');
      await sleep(20);
      connection.send('st: edge\r\n\r\n');
      const response = await connection.read();
      assert.equal(response.status, 200);
      assert.ok(response.body.equals(small));
    } finally {
      connection.close();
    }
  });

  it('leaves a request with a body to node:http, so a request hidden in the body is never answered', async () => {
    const connection = await RawConnection.open(url);
    try {
      const hidden = get('/vod/fast/seg-00002.ts');
      connection.send(`GET /vod/fast/index.m3u8 HTTP/1.1\r\nHost: edge\r\nContent-Length: ${hidden.length}\r\n\r\n${hidden}`);
      connection.send(get('/vod/fast/seg-00000.ts'));
      const first = await connection.read();
      assert.ok(first.body.equals(small));
      const second = await connection.read();
      assert.ok(second.body.equals(large), 'the next response answers the next request, not the body');
      assert.equal(origin.hits.get('/vod/fast/seg-00002.ts'), undefined);
    } finally {
      connection.close();
    }
  });

  it('hands a malformed request to node:http, which answers 400 and closes; the edge keeps serving', async () => {
    const connection = await RawConnection.open(url);
    connection.send('GARBAGE\r\n\r\n');
    const response = await connection.read();
    assert.equal(response.status, 400);
    await connection.closedByServer();
    const after = await fetch(`${url}/vod/fast/index.m3u8`);
    assert.equal(after.status, 200);
  });

  it('answers a pipelining client only as fast as it reads, and every response arrives whole', async () => {
    const connection = await RawConnection.open(url);
    try {
      const hitsBefore = await fastPathHits(edge);
      connection.socket.pause();
      // 40 padded requests (over 16 KB of them, so the edge also stops reading) for 40 MB of
      // responses, which cannot sit in loopback socket buffers: the edge must wait until we read.
      connection.send(get('/vod/fast/seg-00000.ts', `X-Pad: ${'p'.repeat(450)}\r\n`).repeat(40));
      await sleep(300);
      const answeredWhilePaused = (await fastPathHits(edge)) - hitsBefore;
      assert.ok(answeredWhilePaused < 40, `answered ${answeredWhilePaused} of 40 while the client read nothing`);
      connection.socket.resume();
      for (let i = 0; i < 40; i++) assert.ok((await connection.read()).body.equals(large), `response ${i + 1}`);
      assert.equal((await fastPathHits(edge)) - hitsBefore, 40);
    } finally {
      connection.close();
    }
  });

  it('while draining, hands requests to node:http, which closes the connection after answering', async () => {
    const connection = await RawConnection.open(url);
    try {
      connection.send(get('/vod/fast/index.m3u8'));
      assert.ok((await connection.read()).body.equals(small));
      edge.setDraining(true);
      connection.send(get('/vod/fast/index.m3u8'));
      const response = await connection.read();
      assert.ok(response.body.equals(small));
      assert.equal(response.header('connection'), 'close');
      await connection.closedByServer();
    } finally {
      edge.setDraining(false);
      connection.close();
    }
  });

  it('closes a kept-alive connection left idle past the keep-alive timeout, on either path', async () => {
    const local = createEdge({ id: 'edge-idle', logger: silent, cacheBytes: 8 * 1024 * 1024, maxObjectBytes: 1024 * 1024, originUrls: [origin.url], connections: { keepAliveTimeoutMs: 300 } });
    const localUrl = await local.listen(0, '127.0.0.1');
    try {
      await (await fetch(`${localUrl}/vod/fast/index.m3u8`)).arrayBuffer();
      const onFastPath = await RawConnection.open(localUrl);
      const handedOver = await RawConnection.open(localUrl);
      onFastPath.send(get('/vod/fast/index.m3u8'));
      handedOver.send(get('/vod/fast/index.m3u8', 'Range: bytes=0-9\r\n'));
      assert.equal((await onFastPath.read()).status, 200);
      assert.equal((await handedOver.read()).status, 206);
      assert.equal(await fastPathHits(local), 1);
      const started = performance.now();
      await Promise.all([onFastPath.closedByServer(), handedOver.closedByServer()]);
      assert.ok(performance.now() - started >= 200, 'closed only once idle');
    } finally {
      await local.close(1000);
    }
  });

  it('close() ends idle fast-path connections at once instead of waiting out the grace period', async () => {
    const local = createEdge({ id: 'edge-closing', logger: silent, cacheBytes: 8 * 1024 * 1024, maxObjectBytes: 1024 * 1024, originUrls: [origin.url] });
    const localUrl = await local.listen(0, '127.0.0.1');
    await (await fetch(`${localUrl}/vod/fast/index.m3u8`)).arrayBuffer();
    const connection = await RawConnection.open(localUrl);
    connection.send(get('/vod/fast/index.m3u8'));
    assert.ok((await connection.read()).body.equals(small));
    assert.equal(await fastPathHits(local), 1);
    const started = performance.now();
    await local.close(30_000);
    await connection.closedByServer();
    assert.ok(performance.now() - started < 10_000, 'close waited for the idle connection');
  });
});
