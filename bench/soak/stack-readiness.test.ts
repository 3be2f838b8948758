import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { primeStack } from './stack-readiness.js';

const MASTER = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\n240p/index.m3u8\n';
const MEDIA = '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:1,\ns0.ts\n#EXT-X-ENDLIST\n';

/** A stack in one server: masters, a 240p playlist and a segment; segments answer 503 until `ready` says otherwise. */
async function startStack(t: TestContext, state: { ready: boolean; requests: Set<string> }): Promise<string> {
  const server = createServer((request, response) => {
    state.requests.add(`${request.socket.remoteAddress} ${request.url}`);
    if (request.url?.endsWith('/master.m3u8')) return void response.writeHead(200).end(MASTER);
    if (request.url?.endsWith('.m3u8')) return void response.writeHead(200).end(MEDIA);
    if (!state.ready) return void response.writeHead(503).end();
    response.writeHead(200).end(Buffer.alloc(100));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('the stack is ready once each title played from each region; what that took is told', async (t) => {
  const state = { ready: true, requests: new Set<string>() };
  const readiness = await primeStack({ balancerUrl: await startStack(t, state), media: ['live/c', 'vod/a'], rendition: '240p', timeoutMs: 10_000 });
  assert.equal(readiness.viewers, 4);
  assert.equal(readiness.failed, 0);
  assert.ok(readiness.requests >= 12, `${readiness.requests} requests: a master, a playlist and a segment per viewer at least`);
  // Each title from a us-east and an eu-west address.
  for (const title of ['live/c', 'vod/a']) {
    for (const network of ['127.0.1.', '127.0.2.']) {
      assert.ok([...state.requests].some((line) => line.startsWith(network) && line.endsWith(`/${title}/240p/s0.ts`)), `${title} from ${network}x: ${[...state.requests].join(', ')}`);
    }
  }
});

test('a stack that plays nothing within the bound is not ready, and says which viewers waited', async (t) => {
  const state = { ready: false, requests: new Set<string>() };
  const balancerUrl = await startStack(t, state);
  await assert.rejects(primeStack({ balancerUrl, media: ['vod/a'], rendition: '240p', timeoutMs: 600 }), /no segment within 600 ms for ready-1 \(vod\/a, us-east\), ready-2 \(vod\/a, eu-west\)/);
  await assert.rejects(primeStack({ balancerUrl, media: ['vod/a'], rendition: '240p', timeoutMs: 0 }), /timeoutMs must be positive/);
});
