import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { Pool } from 'undici';
import { createUrlTokenVerifier, parseTokenKey, signUrlToken } from '../../infra/auth/url-token.js';
import { createEdge, type Edge } from '../edge-server.js';
import { object, startTestOrigin, type TestOrigin } from './test-origin.js';
import { selectVariant } from '../cache/variants.js';

const KEY_A = parseTokenKey('ka:edge-test-secret-a-0123456789');
const KEY_B = parseTokenKey('kb:edge-test-secret-b-0123456789');
const now = (): number => Math.floor(Date.now() / 1000);
const tokenFor = (prefix: string, key = KEY_A, expires = now() + 600): string => signUrlToken(key, { prefix, expires });

const MEDIA_PLAYLIST = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', '#EXT-X-MAP:URI="init.mp4"', '#EXTINF:2.0,', 'seg-0.m4s', '#EXTINF:2.0,', 'seg-1.m4s', '#EXT-X-ENDLIST', ''].join('\n');

describe('edge: signed URLs', () => {
  let origin: TestOrigin;
  let edge: Edge;
  let pool: Pool;
  let edgeUrl: string;
  const logLines: string[] = [];
  before(async () => {
    origin = await startTestOrigin();
    origin.route('/catalog.json', object(Buffer.from('{"assets":[]}'), 'public, max-age=5', { 'content-type': 'application/json' }));
    origin.route('/vod/t/seg-0.m4s', object(Buffer.alloc(40_000, 7), 'public, max-age=600'));
    origin.route('/vod/t/720p/index.m3u8', object(Buffer.from(MEDIA_PLAYLIST), 'public, max-age=600', { 'content-type': 'application/vnd.apple.mpegurl' }));
    origin.route('/vod/t/480p/index.m3u8', object(Buffer.from(MEDIA_PLAYLIST), 'no-store', { 'content-type': 'application/vnd.apple.mpegurl' }));
    const sink = new Writable({ write(chunk: Buffer, _encoding, done) { logLines.push(chunk.toString()); done(); } });
    edge = createEdge({
      id: 'edge-signed',
      logger: pino({ level: 'debug' }, sink),
      cacheBytes: 16 * 1024 * 1024,
      maxObjectBytes: 4 * 1024 * 1024,
      originUrls: [origin.url],
      urlTokens: createUrlTokenVerifier([KEY_A, KEY_B]),
    });
    edgeUrl = await edge.listen(0, '127.0.0.1');
    pool = new Pool(edgeUrl, { connections: 1, pipelining: 1 });
  });
  after(async () => {
    await pool.close();
    await edge.close(1000);
    await origin.close();
  });

  type Answer = { status: number; body: string; headers: Record<string, string | string[] | undefined> };
  const getVia = (via: Pool) => async (path: string): Promise<Answer> => {
    const response = await via.request({ path, method: 'GET' });
    return { status: response.statusCode, body: await response.body.text(), headers: response.headers };
  };
  const get = (path: string): Promise<Answer> => getVia(pool)(path);

  it('refuses a missing, forged, expired or out-of-scope token with 403 and a reason, before any origin work', async () => {
    const valid = tokenFor('/vod/t/');
    const cases: [string, string][] = [
      ['/vod/t/seg-0.m4s', 'token missing'],
      [`/vod/t/seg-0.m4s?${valid.replace(/st=[^&]{4}/, 'st=AAAA')}`, 'token invalid'],
      [`/vod/t/seg-0.m4s?${tokenFor('/vod/t/', KEY_A, now() - 5)}`, 'token expired'],
      [`/vod/other/seg-0.m4s?${valid}`, 'path outside token scope'],
      [`/vod/t/../other/seg-0.m4s?${valid}`, 'path outside token scope'],
      [`/vod/t/%2e%2e/other/seg-0.m4s?${valid}`, 'path outside token scope'],
      [`/vod/t/seg-0.m4s?${signUrlToken(KEY_A, { prefix: '/vod/t/', expires: now() + 60, clientAddress: '192.0.2.9' })}`, 'client address mismatch'],
    ];
    const before = origin.total();
    for (const [path, reason] of cases) {
      const answer = await get(path);
      assert.equal(answer.status, 403, path);
      assert.equal(answer.body.trim(), reason, path);
    }
    assert.equal(origin.total(), before, 'no origin request for a refused token');
  });

  it('answers control paths and the title listing without a token, and no other spelling of the listing', async () => {
    assert.equal((await get('/healthz')).status, 200);
    assert.equal((await get('/catalog.json')).status, 200);
    assert.equal((await get('/catalog.json?x=1')).status, 200);
    assert.equal((await get('//catalog.json')).status, 403);
    assert.equal((await get('/%63atalog.json')).status, 403);
  });

  it('keeps tokens out of the cache key: two valid tokens (two keys) for one segment make one origin fetch', async () => {
    const fastHits = async (): Promise<number> => Number(/^streamedge_edge_fast_path_hits_total (\d+)/m.exec(await edge.metrics.registry.metrics())?.[1]);
    const first = await get(`/vod/t/seg-0.m4s?${tokenFor('/vod/t/', KEY_A)}`);
    const fastBefore = await fastHits();
    // A new connection: one handed to node:http (as the 403s above were) stays there.
    const fresh = new Pool(edgeUrl, { connections: 1 });
    const freshGet = getVia(fresh);
    const second = await freshGet(`/vod/t/seg-0.m4s?${tokenFor('/vod/t/', KEY_B, now() + 900)}`);
    const third = await freshGet(`/vod/t/seg-0.m4s?${tokenFor('/vod/', KEY_B)}`);
    await fresh.close();
    assert.deepEqual([first.status, second.status, third.status], [200, 200, 200]);
    assert.equal(origin.hits.get('/vod/t/seg-0.m4s'), 1);
    assert.equal(second.body, first.body);
    assert.match(String(third.headers['cache-status']), /; hit/);
    // A tokened segment hit is still answered on the fast path, after the same check.
    assert.equal((await fastHits()) - fastBefore, 2);
  });

  it('carries the token into every URI of a playlist on the way out, never into the cached copy (miss, hit, not stored)', async () => {
    const token = tokenFor('/vod/t/');
    for (const path of ['/vod/t/720p/index.m3u8', '/vod/t/720p/index.m3u8', '/vod/t/480p/index.m3u8']) {
      const answer = await get(`${path}?region=x&${token}`);
      assert.equal(answer.status, 200);
      assert.equal(Number(answer.headers['content-length']), Buffer.byteLength(answer.body));
      assert.match(answer.body, new RegExp(`#EXT-X-MAP:URI="init\\.mp4\\?${token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`));
      const uris = answer.body.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
      assert.deepEqual(uris, [`seg-0.m4s?${token}`, `seg-1.m4s?${token}`]);
    }
    assert.equal(origin.hits.get('/vod/t/720p/index.m3u8'), 1);
    const cached = selectVariant(edge.services.store.peek('/vod/t/720p/index.m3u8')!, undefined);
    assert.ok(cached);
    assert.equal(cached.body.toString(), MEDIA_PLAYLIST);
  });

  it('never writes a token into a log line', () => {
    assert.ok(logLines.length > 5, 'debug request lines were logged');
    const secrets = [tokenFor('/vod/t/').match(/st=([^&]+)/)![1]!, 'st=', 'pfx='];
    for (const line of logLines) for (const secret of secrets) assert.ok(!line.includes(secret), `log line holds ${secret}: ${line}`);
  });
});
