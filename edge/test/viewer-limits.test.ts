// Hostile viewers' connections (issue 11, "Unbounded resources"): slow heads, viewers that stop
// reading, and more connections than allowed, on real sockets against an edge on port 0.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openRawClient as open } from '../../infra/testing/raw-client.js';
import { waitUntil } from '../../infra/testing/wait-for.js';
import { pino } from 'pino';
import { createEdge, type Edge, type EdgeOptions } from '../edge-server.js';
import { object, startTestOrigin, type TestOrigin } from './test-origin.js';

const silent = pino({ level: 'silent' });
const LARGE = Buffer.alloc(24 * 1024 * 1024, 7);

async function metric(edge: Edge, pattern: RegExp): Promise<number> {
  const match = pattern.exec(await edge.metrics.registry.metrics());
  return match ? Number(match[1]) : 0;
}


const get = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: edge\r\n${extra}\r\n`;

/** Fills the edge's cache with the large object on a connection that closes after it. */
async function warm(url: string): Promise<void> {
  const client = await open(url);
  client.socket.write(get('/vod/limits/large.ts', 'Connection: close\r\n'));
  await client.closed;
  assert.ok(client.received().length > LARGE.length);
}

const OPEN = /^streamedge_edge_open_connections (\d+)/m;
const WRITE_TIMEOUTS = /^streamedge_edge_write_timeouts_total (\d+)/m;

describe('viewer connection limits', () => {
  let origin: TestOrigin;
  const edges: Edge[] = [];
  before(async () => {
    origin = await startTestOrigin();
    origin.route('/vod/limits/large.ts', object(LARGE, 'public, max-age=600'));
    origin.route('/vod/limits/small.ts', object(Buffer.from('small'), 'public, max-age=600'));
  });
  after(async () => {
    await Promise.all(edges.map((edge) => edge.close(500)));
    await origin.close();
  });

  async function startEdge(connections: EdgeOptions['connections'], extra: Partial<EdgeOptions> = {}): Promise<{ edge: Edge; url: string }> {
    const edge = createEdge({ id: 'edge-limits', logger: silent, cacheBytes: 64 * 1024 * 1024, maxObjectBytes: 32 * 1024 * 1024, originUrls: [origin.url], connections, ...extra });
    edges.push(edge);
    return { edge, url: await edge.listen(0, '127.0.0.1') };
  }

  it('validates the limits when the edge is made, naming the bad one', () => {
    assert.throws(() => createEdge({ id: 'e', logger: silent, cacheBytes: 1 << 20, maxObjectBytes: 1024, originUrls: ['http://127.0.0.1:1'], connections: { writeTimeoutMs: 0 } }), /writeTimeoutMs/);
    assert.throws(() => createEdge({ id: 'e', logger: silent, cacheBytes: 1 << 20, maxObjectBytes: 1024, originUrls: ['http://127.0.0.1:1'], connections: { maxConnectionsPerIp: 1.5 } }), /maxConnectionsPerIp/);
    assert.throws(() => createEdge({ id: 'e', logger: silent, cacheBytes: 1 << 20, maxObjectBytes: 1024, originUrls: ['http://127.0.0.1:1'], connections: { headersTimeoutMs: 5000, requestTimeoutMs: 1000 } }), /requestTimeoutMs/);
  });

  for (const fastHits of [true, false]) {
    it(`closes a connection that sends half a request head, or nothing, within the header timeout (fast path ${fastHits ? 'on' : 'off'})`, async () => {
      const { url } = await startEdge({ headersTimeoutMs: 300, requestTimeoutMs: 600 }, { fastHits });
      const halfHead = await open(url);
      halfHead.socket.write('GET /vod/limits/small.ts HTTP/1.1\r\nHost: ed');
      const silentClient = await open(url);
      const [halfMs, silentMs] = await Promise.all([halfHead.closed, silentClient.closed]);
      assert.ok(halfMs >= 250 && halfMs < 3000, `half head closed after ${Math.round(halfMs)} ms`);
      assert.ok(silentMs >= 250 && silentMs < 3000, `silent connection closed after ${Math.round(silentMs)} ms`);
      assert.match(halfHead.received().toString('latin1'), /^HTTP\/1\.1 408 /);
    });
  }

  for (const [name, head] of [['fast path (plain hit)', get('/vod/limits/large.ts')], ['node:http (Range)', get('/vod/limits/large.ts', 'Range: bytes=0-\r\n')]] as const) {
    it(`cuts a viewer that never reads a large response after the write timeout: ${name}`, async () => {
      const { edge, url } = await startEdge({ writeTimeoutMs: 400 });
      await warm(url);
      const stalled = await open(url, { paused: true });
      const started = performance.now();
      stalled.socket.write(head);
      await waitUntil('write timeout counted', async () => (await metric(edge, WRITE_TIMEOUTS)) === 1, 5000);
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 350, `cut after ${Math.round(elapsed)} ms`);
      await waitUntil('connection released', async () => (await metric(edge, OPEN)) === 0, 2000);
      stalled.socket.resume();
      await stalled.closed;
    });
  }

  it('keeps a slow reader that makes progress', async () => {
    const { edge, url } = await startEdge({ writeTimeoutMs: 400 });
    await warm(url);
    const slow = await open(url, { paused: true });
    slow.socket.write(get('/vod/limits/large.ts', 'Connection: close\r\n'));
    let received = 0;
    slow.socket.on('data', (chunk: Buffer) => (received += chunk.length));
    slow.socket.pause();
    // Reads in bursts, with pauses shorter than the write timeout.
    const reading = setInterval(() => {
      slow.socket.resume();
      setTimeout(() => slow.socket.pause(), 60);
    }, 300);
    await slow.closed;
    clearInterval(reading);
    assert.equal(await metric(edge, WRITE_TIMEOUTS), 0);
    assert.ok(received > LARGE.length, `read ${received} bytes`);
  });

  it('refuses connections beyond the per-process cap with 503 and Retry-After, and admits again once one closes', async () => {
    const { edge, url } = await startEdge({ maxConnections: 2 });
    const first = await open(url);
    const second = await open(url);
    await waitUntil('two open', async () => (await metric(edge, OPEN)) === 2, 2000);
    const third = await open(url);
    third.socket.write(get('/vod/limits/small.ts'));
    await third.closed;
    const answer = third.received().toString('latin1');
    assert.match(answer, /^HTTP\/1\.1 503 /);
    assert.match(answer, /\r\nretry-after: 1\r\n/i);
    assert.equal(await metric(edge, /^streamedge_edge_rejected_connections_total\{reason="max-connections"\} (\d+)/m), 1);
    first.socket.destroy();
    await waitUntil('one left', async () => (await metric(edge, OPEN)) === 1, 2000);
    const fourth = await open(url);
    fourth.socket.write(get('/vod/limits/small.ts', 'Connection: close\r\n'));
    await fourth.closed;
    assert.match(fourth.received().toString('latin1'), /^HTTP\/1\.1 200 /);
    second.socket.destroy();
  });

  it('refuses connections beyond the per-address cap, while other addresses still get in', async () => {
    const { edge, url } = await startEdge({ maxConnectionsPerIp: 1 });
    const first = await open(url);
    await waitUntil('one open', async () => (await metric(edge, OPEN)) === 1, 2000);
    const second = await open(url);
    await second.closed;
    assert.match(second.received().toString('latin1'), /^HTTP\/1\.1 503 [^]*retry-after: 1/i);
    assert.equal(await metric(edge, /^streamedge_edge_rejected_connections_total\{reason="max-connections-per-ip"\} (\d+)/m), 1);
    const elsewhere = await open(url, { localAddress: '127.0.0.2' });
    elsewhere.socket.write(get('/vod/limits/small.ts', 'Connection: close\r\n'));
    await elsewhere.closed;
    assert.match(elsewhere.received().toString('latin1'), /^HTTP\/1\.1 200 /);
    first.socket.destroy();
  });
});
