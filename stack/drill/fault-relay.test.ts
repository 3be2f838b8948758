import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { startFaultRelay } from './fault-relay.js';

const BODY = Buffer.from('a segment of video bytes, long enough to matter');
const ETAG = `"${createHash('sha256').update(BODY).digest('hex')}"`;

async function startReplica(): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    if (request.url === '/healthz') return void response.end('ok');
    response.writeHead(200, { etag: ETAG, 'content-length': BODY.length, 'content-type': 'video/mp2t' }).end(BODY);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

test('a corrupt relay serves other bytes of the same length under the same headers; control paths pass untouched', async (t) => {
  const replica = await startReplica();
  t.after(() => replica.server.close());
  const relay = await startFaultRelay({ upstream: replica.url, mode: { kind: 'corrupt' }, host: '127.0.0.1' });
  t.after(() => relay.close());
  const response = await fetch(`${relay.url}/vod/a/240p/seg-1.ts`);
  const body = Buffer.from(await response.arrayBuffer());
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('etag'), ETAG);
  assert.equal(body.length, BODY.length);
  assert.notDeepEqual(body, BODY);
  assert.equal(await (await fetch(`${relay.url}/healthz`)).text(), 'ok');
  assert.equal(relay.faulted(), 1);
});

test('a slow relay answers no sooner than its delay, with the replica\'s bytes', async (t) => {
  const replica = await startReplica();
  t.after(() => replica.server.close());
  const relay = await startFaultRelay({ upstream: replica.url, mode: { kind: 'slow', delayMs: 300 }, host: '127.0.0.1' });
  t.after(() => relay.close());
  const started = Date.now();
  const body = Buffer.from(await (await fetch(`${relay.url}/seg.ts`)).arrayBuffer());
  assert.ok(Date.now() - started >= 290, `answered after ${Date.now() - started} ms`);
  assert.deepEqual(body, BODY);
});

test('a relay whose replica is gone answers 502; bad options are refused', async () => {
  const replica = await startReplica();
  const gone = replica.url;
  await new Promise((resolve) => replica.server.close(resolve));
  const relay = await startFaultRelay({ upstream: gone, mode: { kind: 'corrupt' }, host: '127.0.0.1' });
  try {
    assert.equal((await fetch(`${relay.url}/seg.ts`)).status, 502);
  } finally {
    await relay.close();
  }
  await assert.rejects(startFaultRelay({ upstream: 'ftp://x', mode: { kind: 'corrupt' }, host: '127.0.0.1' }), /http URL/);
  await assert.rejects(startFaultRelay({ upstream: gone, mode: { kind: 'slow', delayMs: -1 }, host: '127.0.0.1' }), /delayMs/);
});
