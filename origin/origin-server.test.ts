import assert from 'node:assert/strict';
import { once } from 'node:events';
import { cp, mkdir, mkdtemp, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { get, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { waitUntil } from '../infra/testing/wait-for.js';
import { spawnStreamedge, type StreamedgeProcess } from '../stack/streamedge-process.js';
import { parseMediaPlaylist } from './media-playlist.js';
import { createOriginServer, startOriginServer } from './origin-server.js';
import { ensureTestCatalog } from './test/catalog-fixture.js';
import { writeLiveFixture } from './test/live-fixture.js';

let catalog: string;
let replicas: StreamedgeProcess[] = [];
let a: string;
let b: string;

before(async () => {
  catalog = await ensureTestCatalog();
  replicas = await Promise.all(
    ['origin-a', 'origin-b'].map((id) => spawnStreamedge(['origin', '--content', catalog, '--port', '0', '--id', id])),
  );
  [a, b] = replicas.map((replica) => replica.url) as [string, string];
});

after(() => Promise.all(replicas.map((replica) => replica.kill())));

/** Sends bytes exactly as written (fetch would normalise ../ and reject odd characters). */
function rawRequest(base: string, head: string): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(`${head}\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text });
    });
  });
}

test('two replicas serve the same bytes with the same strong ETag and the right headers per kind', async () => {
  const objects: [string, string, string][] = [
    ['/vod/demo-ts/720p/seg-00001.ts', 'video/mp2t', 'public, max-age=31536000, immutable'],
    ['/vod/demo-fmp4/480p/seg-00000.m4s', 'video/mp4', 'public, max-age=31536000, immutable'],
    ['/vod/demo-fmp4/480p/init.mp4', 'video/mp4', 'public, max-age=31536000, immutable'],
    ['/vod/demo-ts/master.m3u8', 'application/vnd.apple.mpegurl', 'public, max-age=3600, stale-while-revalidate=86400'],
    ['/vod/demo-fmp4/720p/index.m3u8', 'application/vnd.apple.mpegurl', 'public, max-age=3600, stale-while-revalidate=86400'],
  ];
  for (const [path, contentType, cacheControl] of objects) {
    const [fromA, fromB] = await Promise.all([fetch(a + path), fetch(b + path)]);
    const bytes = Buffer.from(await fromA.arrayBuffer());
    assert.deepEqual(Buffer.from(await fromB.arrayBuffer()), bytes);
    assert.deepEqual(bytes, await readFile(join(catalog, path)));
    assert.equal(fromA.status, 200);
    assert.match(fromA.headers.get('etag')!, /^"[A-Za-z0-9_-]{43}"$/);
    assert.equal(fromA.headers.get('etag'), fromB.headers.get('etag'), path);
    assert.equal(fromA.headers.get('last-modified'), fromB.headers.get('last-modified'));
    assert.equal(fromA.headers.get('content-type'), contentType);
    assert.equal(fromA.headers.get('cache-control'), cacheControl);
    assert.equal(fromA.headers.get('accept-ranges'), 'bytes');
    assert.equal(fromA.headers.get('x-origin-id'), 'origin-a');
  }
});

test('byte ranges: 206 for one range, 416 past the end, whole object for several or a stale If-Range', async () => {
  const path = '/vod/demo-ts/240p/seg-00002.ts';
  const file = await readFile(join(catalog, path));
  const partial = await fetch(a + path, { headers: { Range: 'bytes=188-375' } });
  assert.equal(partial.status, 206);
  assert.equal(partial.headers.get('content-range'), `bytes 188-375/${file.length}`);
  assert.deepEqual(Buffer.from(await partial.arrayBuffer()), file.subarray(188, 376));

  const suffix = await fetch(a + path, { headers: { Range: 'bytes=-10' } });
  assert.equal(suffix.status, 206);
  assert.deepEqual(Buffer.from(await suffix.arrayBuffer()), file.subarray(file.length - 10));

  const beyond = await fetch(a + path, { headers: { Range: `bytes=${file.length}-` } });
  assert.equal(beyond.status, 416);
  assert.equal(beyond.headers.get('content-range'), `bytes */${file.length}`);
  assert.equal(await beyond.text(), 'range not satisfiable\n');

  const several = await fetch(a + path, { headers: { Range: 'bytes=0-9,20-29' } });
  assert.equal(several.status, 200);
  assert.equal((await several.arrayBuffer()).byteLength, file.length);

  const etag = partial.headers.get('etag')!;
  const current = await fetch(a + path, { headers: { Range: 'bytes=0-9', 'If-Range': etag } });
  assert.equal(current.status, 206);
  await current.arrayBuffer();
  const stale = await fetch(a + path, { headers: { Range: 'bytes=0-9', 'If-Range': '"an-older-version"' } });
  assert.equal(stale.status, 200);
  assert.equal((await stale.arrayBuffer()).byteLength, file.length);
});

test('conditional GET answers 304 from either replica; HEAD sends headers only', async () => {
  const path = '/vod/demo-fmp4/720p/seg-00001.m4s';
  const first = await fetch(a + path);
  await first.arrayBuffer();
  const etag = first.headers.get('etag')!;
  const revalidated = await fetch(b + path, { headers: { 'If-None-Match': etag } });
  assert.equal(revalidated.status, 304);
  assert.equal(revalidated.headers.get('etag'), etag);
  assert.equal(await revalidated.text(), '');
  const changed = await fetch(b + path, { headers: { 'If-None-Match': '"something-else"' } });
  assert.equal(changed.status, 200);
  await changed.arrayBuffer();

  const head = await fetch(a + path, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), first.headers.get('content-length'));
  assert.equal(head.headers.get('etag'), etag);
  assert.equal(await head.text(), '');
});

test('other methods get 405 with Allow', async () => {
  for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
    const response = await fetch(`${a}/vod/demo-ts/master.m3u8`, { method });
    assert.equal(response.status, 405, method);
    assert.equal(response.headers.get('allow'), 'GET, HEAD');
    assert.equal(await response.text(), 'method not allowed\n');
  }
});

test('traversal and malformed paths get a 4xx and never a byte from outside the catalog', async () => {
  const attempts = [
    '/vod/../../../../etc/passwd',
    '/vod/demo-ts/../../../../../etc/passwd',
    '/vod/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '/vod/..%2f..%2f..%2f..%2fetc%2fpasswd',
    '/vod/%252e%252e/%252e%252e/etc/passwd',
    '/vod/..\\..\\..\\..\\etc\\passwd',
    '/vod/demo-ts/master.m3u8%00.ts',
    '/vod/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd',
    '/vod/%zz',
    '/live/channel-1/../../etc/passwd',
    '/vod/demo-ts/asset.json',
    '/vod/demo-ts/240p',
    `/vod/${'x'.repeat(5000)}`,
    '/../../../../etc/passwd',
  ];
  for (const path of attempts) {
    const { status, text } = await rawRequest(a, `GET ${path} HTTP/1.1`);
    assert.ok(status >= 400 && status < 500, `${path} → ${status}`);
    assert.doesNotMatch(text, /root:/, path);
  }
  const withNul = await rawRequest(a, 'GET /vod/demo-ts/master.m3u8\0 HTTP/1.1');
  assert.ok(withNul.status >= 400 && withNul.status < 500);
  const hugeHeader = await rawRequest(a, `GET /vod/demo-ts/master.m3u8 HTTP/1.1\r\nX-Filler: ${'a'.repeat(20_000)}`);
  assert.equal(hugeHeader.status, 431);
  const garbage = await rawRequest(a, 'GARBAGE\x01 /// HTTP/9.9');
  assert.equal(garbage.status, 400);
  const health = await fetch(`${a}/healthz`);
  assert.equal(await health.text(), 'ok\n', 'still serving after bad requests');
});

test('live channels from the shared store: the same bytes on every replica, immutable segments, a clear 503 while the encoder stalls', async () => {
  const content = await mkdtemp(join(tmpdir(), 'streamedge-origin-live-'));
  let now = Date.now();
  const clock = (): number => now;
  const fixture = await writeLiveFixture(content, { channel: 'news', segments: 4, windowSize: 3 });
  const replicasInProcess = await Promise.all(['live-a', 'live-b'].map((id) => startOriginServer({ contentDir: content, clock, id })));
  const [x, y] = replicasInProcess.map((replica) => replica.url) as [string, string];
  try {
    const responses = await Promise.all([x, y].map((base) => fetch(`${base}/live/news/480p/index.m3u8`)));
    for (const response of responses) {
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('cache-control'), 'public, max-age=1');
      assert.equal(response.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    }
    assert.equal(responses[0]!.headers.get('etag'), responses[1]!.headers.get('etag'));
    assert.equal(responses[0]!.headers.get('last-modified'), responses[1]!.headers.get('last-modified'));
    const [text, other] = await Promise.all(responses.map((response) => response.text()));
    assert.equal(text, other);
    const playlist = parseMediaPlaylist(text!);
    assert.deepEqual(playlist.segments.map((segment) => segment.uri), ['seg-1.ts', 'seg-2.ts', 'seg-3.ts']);
    assert.equal(playlist.endList, false);
    assert.match(text!, /#EXT-X-MEDIA-SEQUENCE:1\n/);

    const segment = await fetch(`${y}/live/news/480p/seg-3.ts`);
    assert.equal(segment.status, 200);
    assert.equal(segment.headers.get('content-type'), 'video/mp2t');
    assert.equal(segment.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.deepEqual(Buffer.from(await segment.arrayBuffer()), await readFile(join(fixture.channelDir, '480p', 'seg-3.ts')));
    assert.equal((await fetch(`${x}/live/news/480p/seg-0.ts`)).status, 200, 'left the window, still within the grace period');
    for (const [path, reason] of [
      ['/live/news/480p/seg-9.ts', /not available/],
      ['/live/news/480p/seg-03.ts', /not found/],
      ['/live/news/1080p/index.m3u8', /no such rendition/],
      ['/live/nothing/480p/index.m3u8', /no such live channel/],
      ['/live/nothing/master.m3u8', /no such live channel/],
    ] as const) {
      const refused = await fetch(`${x}${path}`);
      assert.equal(refused.status, 404, path);
      assert.equal(refused.headers.get('cache-control'), 'no-store');
      assert.match(await refused.text(), reason, path);
    }
    const master = await fetch(`${x}/live/news/master.m3u8`);
    assert.equal(master.status, 200);
    assert.equal(master.headers.get('cache-control'), 'public, max-age=1');
    assert.equal(await master.text(), await readFile(join(fixture.channelDir, 'master.m3u8'), 'utf8'));
    const listed = ((await (await fetch(`${y}/catalog.json`)).json()) as { assets: unknown[] }).assets;
    assert.deepEqual(listed, [{ id: 'news', title: 'Live news', kind: 'live', format: 'ts', path: '/live/news/master.m3u8' }]);
    assert.equal((await fetch(`${x}/readyz`)).status, 200, 'a live channel is content');

    // The encoder stops writing: three target durations (6 s) later every replica refuses the channel's playlists.
    // The origin reads the same Date (Node rounds the sub-millisecond mtime to make it).
    const written = (await stat(join(fixture.channelDir, '480p', 'index.m3u8'))).mtime.getTime();
    now = written + 6000;
    assert.equal((await fetch(`${x}/live/news/480p/index.m3u8`)).status, 200, 'not yet: three target durations exactly');
    now = written + 7000;
    for (const path of ['/live/news/480p/index.m3u8', '/live/news/240p/index.m3u8', '/live/news/master.m3u8']) {
      for (const base of [x, y]) {
        const stalled = await fetch(`${base}${path}`);
        assert.equal(stalled.status, 503, `${base}${path}`);
        assert.equal(stalled.headers.get('retry-after'), '2');
        assert.equal(stalled.headers.get('cache-control'), 'no-store');
        assert.match(await stalled.text(), /^live encoder stalled: playlist not updated for 7 s \(target duration 2 s\)\n$/);
      }
    }
    assert.equal((await fetch(`${x}/live/news/480p/seg-3.ts`)).status, 200, 'segments already listed stay available');
    // The encoder resumes: the next playlist write makes the channel answer again, by itself.
    await fixture.advance();
    now = (await stat(join(fixture.channelDir, '480p', 'index.m3u8'))).mtimeMs + 500;
    const resumed = await fetch(`${y}/live/news/480p/index.m3u8`);
    assert.equal(resumed.status, 200);
    assert.match(await resumed.text(), /seg-4\.ts\n$/);
    assert.equal((await fetch(`${y}/live/news/master.m3u8`)).status, 200);

    // Set up but not publishing yet: 503 with a reason, not 404.
    await mkdir(join(content, 'live', 'early'));
    await writeFile(join(content, 'live', 'early', 'channel.json'), JSON.stringify({ id: 'early', title: 'Early', format: 'ts' }));
    const starting = await fetch(`${x}/live/early/master.m3u8`);
    assert.equal(starting.status, 503);
    assert.match(await starting.text(), /live channel early is starting/);
  } finally {
    await Promise.all(replicasInProcess.map((replica) => replica.close()));
    await rm(content, { recursive: true, force: true });
  }
});

test('catalog.json, health, readiness and Prometheus metrics', async () => {
  const catalogResponse = await fetch(`${a}/catalog.json`);
  assert.equal(catalogResponse.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.deepEqual(await catalogResponse.json(), {
    assets: [
      { id: 'demo-fmp4', title: 'Demo (fMP4 segments)', kind: 'vod', format: 'fmp4', path: '/vod/demo-fmp4/master.m3u8' },
      { id: 'demo-ts', title: 'Demo (MPEG-TS segments)', kind: 'vod', format: 'ts', path: '/vod/demo-ts/master.m3u8' },
    ],
  });
  assert.equal((await fetch(`${a}/readyz`)).status, 200);
  assert.equal((await fetch(`${a}/live/none/240p/index.m3u8`)).status, 404);
  const metrics = await (await fetch(`${a}/metrics`)).text();
  assert.match(metrics, /streamedge_origin_requests_total\{kind="vod-segment",status="200"\} [1-9]/);
  assert.match(metrics, /streamedge_origin_requests_total\{kind="invalid",status="400"\} [1-9]/);
  assert.match(metrics, /streamedge_origin_requests_total\{kind="vod-segment",status="206"\} [1-9]/);
  assert.match(metrics, /streamedge_origin_response_bytes_total\{kind="vod-segment"\} [1-9]/);
  assert.match(metrics, /streamedge_origin_request_duration_seconds_bucket\{le="0.005",kind="live-playlist"\}/);
});

test('SIGTERM lets an in-flight response finish, then exits 0', async () => {
  const replica = replicas.pop()!;
  const path = '/vod/demo-ts/720p/seg-00000.ts';
  const expected = await readFile(join(catalog, path));
  const response = await new Promise<IncomingMessage>((resolve, reject) => get(replica.url + path, resolve).on('error', reject));
  response.pause(); // the client is slow: the body is still in flight when the signal arrives
  const exited = replica.stop();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const chunks: Buffer[] = [];
  response.on('data', (chunk: Buffer) => chunks.push(chunk));
  response.resume();
  await once(response, 'end');
  assert.deepEqual(Buffer.concat(chunks), expected);
  assert.equal(await exited, 0);
  assert.match(replica.output(), /"msg":"stopped"/);
});

test('in process: escaping symlinks and bad options are refused', async () => {
  const work = await mkdtemp(join(tmpdir(), 'streamedge-origin-'));
  try {
    await cp(join(catalog, 'vod', 'demo-ts'), join(work, 'vod', 'demo-ts'), { recursive: true });
    await writeFile(join(work, 'outside.ts'), 'root:secret');
    await mkdir(join(work, 'content'));
    await rename(join(work, 'vod'), join(work, 'content', 'vod'));
    await symlink(join(work, 'outside.ts'), join(work, 'content', 'vod', 'demo-ts', '240p', 'seg-99999.ts'));
    const origin = await startOriginServer({ contentDir: join(work, 'content'), id: 'in-process' });
    try {
      const escape = await fetch(`${origin.url}/vod/demo-ts/240p/seg-99999.ts`);
      assert.equal(escape.status, 404);
      assert.doesNotMatch(await escape.text(), /secret/);
    } finally {
      await origin.close();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  await assert.rejects(createOriginServer({ contentDir: join(tmpdir(), 'streamedge-no-such-dir') }), /content directory .* does not exist/);
  await assert.rejects(spawnStreamedge(['origin', '--content', join(tmpdir(), 'streamedge-no-such-dir'), '--port', '0']), /exited \(2\)[^]*--content: .* is not a directory/);
  // A wildcard bind names no address edges could use: registering it needs the URL they should.
  await assert.rejects(
    spawnStreamedge(['origin', '--content', catalog, '--port', '0', '--host', '0.0.0.0', '--consul', 'http://127.0.0.1:1']),
    /exited \(2\)[^]*--url: required with --host 0\.0\.0\.0 and --consul/,
  );
});

test('in process: /metrics counts the connections open on the origin, from accept to close', async () => {
  const origin = await startOriginServer({ contentDir: catalog, id: 'connections' });
  const gauge = async (): Promise<number> => (await origin.metrics.registry.getSingleMetric('streamedge_origin_open_connections')!.get()).values[0]!.value;
  const sockets = [connect(origin.port, '127.0.0.1'), connect(origin.port, '127.0.0.1')];
  try {
    assert.equal(await gauge(), 0);
    // Connected, no request yet: a connection all the same (it holds an fd).
    await waitUntil('2 open connections', async () => (await gauge()) === 2, 5000);
    sockets[0]!.destroy();
    await waitUntil('1 open connection after one closed', async () => (await gauge()) === 1, 5000);
    // A keep-alive connection that served a request stays counted until it closes.
    sockets[1]!.write(`GET /vod/demo-ts/240p/index.m3u8 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await once(sockets[1]!, 'data');
    assert.equal(await gauge(), 1);
    sockets[1]!.destroy();
    await waitUntil('no open connection', async () => (await gauge()) === 0, 5000);
  } finally {
    for (const socket of sockets) socket.destroy();
    await origin.close();
  }
});
