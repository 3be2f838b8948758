import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseTokenKey, signUrlToken } from '../../infra/auth/url-token.js';
import { ensureTestCatalog } from '../../origin/test/catalog-fixture.js';
import { startLocalStack } from '../../stack/local-stack.js';
import { SHIPPED_LOCATIONS_FILE } from '../../stack/stack-topology.js';
import { spawnStreamedge } from '../../stack/streamedge-process.js';
import { get } from './http-test-client.js';
import { QUICK_STOP_ARGS } from '../../stack/test/quick-stop-fixture.js';

// Real processes: a Consul dev agent, origins, three edges and a steering balancer sharing one
// signed-URL key (startLocalStack's tokenSecretFile), then a redirect balancer with the same key.

const KEY_TEXT = 'k1:balancer-signed-test-secret-0123456789';
const KEY = parseTokenKey(KEY_TEXT);
const PREFIX = '/vod/demo-ts/';
const now = (): number => Math.floor(Date.now() / 1000);

/** The token parameters of a URL (absolute or relative), in their signed order. */
function tokenOf(uri: string): string {
  const params = new URL(uri, 'http://base.invalid').searchParams;
  return ['st', 'exp', 'pfx', 'kid'].map((name) => `${name}=${encodeURIComponent(params.get(name) ?? '')}`).join('&');
}

test('balancer and edges with a signed-URL key: 403 with a reason, tokens carried into pathways, steering, redirects', { timeout: 180_000 }, async (t) => {
  const scratch = await mkdtemp(join(tmpdir(), 'streamedge-signed-'));
  t.after(() => rm(scratch, { recursive: true, force: true }));
  const keyFile = join(scratch, 'url-token.key');
  await writeFile(keyFile, `${KEY_TEXT}\n`, { mode: 0o600 });
  const stack = await startLocalStack({ contentDir: await ensureTestCatalog(), edgeCacheSize: '32MB', tokenSecretFile: keyFile, extraArgs: { ...QUICK_STOP_ARGS, edge: [...QUICK_STOP_ARGS.edge, '--prefetch', '0'] } });
  t.after(() => stack.stop());
  const balancer = stack.balancerUrl!;
  const token = signUrlToken(KEY, { prefix: PREFIX, expires: now() + 600 });
  const master = `${balancer}${PREFIX}master.m3u8`;

  // Refused before any routing, with the reason; the title listing stays public.
  const refusals: [string, string][] = [
    [master, 'token missing'],
    [`${master}?${signUrlToken(KEY, { prefix: PREFIX, expires: now() - 5 })}`, 'token expired'],
    [`${master}?${token.replace(/st=[^&]{4}/, 'st=AAAA')}`, 'token invalid'],
    [`${balancer}/vod/demo-fmp4/master.m3u8?${token}`, 'path outside token scope'],
    [`${balancer}/steering/vod/demo-ts?session=abcdefghijklmnop`, 'token missing'],
  ];
  for (const [url, reason] of refusals) {
    const reply = await get(url);
    assert.deepEqual([reply.status, reply.body.trim()], [403, reason], url);
  }
  assert.equal((await get(`${balancer}/catalog.json`)).status, 200);
  assert.equal((await get(`${stack.edges[0]!.url}/catalog.json`)).status, 200);

  // Signed: every pathway URI and the steering SERVER-URI carry the token.
  const reply = await get(`${master}?${token}`);
  assert.equal(reply.status, 200, reply.body);
  const serverUri = /#EXT-X-CONTENT-STEERING:SERVER-URI="([^"]+)"/.exec(reply.body)?.[1];
  assert.ok(serverUri, reply.body);
  assert.equal(tokenOf(serverUri), token, `SERVER-URI ${serverUri}`);
  const uris = [
    ...reply.body.split('\n').filter((line) => line !== '' && !line.startsWith('#')),
    ...[...reply.body.matchAll(/#EXT-X-MEDIA:.*URI="([^"]+)"/g)].map((match) => match[1]!),
  ];
  const pathways = new Set([...reply.body.matchAll(/PATHWAY-ID="([^"]+)"/g)].map((match) => match[1]!));
  assert.ok(uris.length >= 3 && pathways.size >= 2, reply.body);
  for (const uri of uris) assert.equal(tokenOf(uri), token, uri);

  // A variant through its edge: 200, and the segments it names carry the token and play.
  const variant = uris.find((uri) => uri.startsWith('http://') && stack.edges.some((edge) => uri.startsWith(edge.url)))!;
  const media = await get(variant);
  assert.equal(media.status, 200, variant);
  const segment = media.body.split('\n').find((line) => line !== '' && !line.startsWith('#'))!;
  assert.equal(tokenOf(segment), token, segment);
  assert.equal((await get(new URL(segment, variant).href)).status, 200);
  assert.equal((await get(new URL(segment, variant).href.split('?')[0]!)).status, 403, 'the segment without its token');

  // The steering manifest loads with the token and hands it on in RELOAD-URI.
  const manifestReply = await get(new URL(serverUri, balancer).href);
  assert.equal(manifestReply.status, 200, manifestReply.body);
  const manifest = JSON.parse(manifestReply.body) as { 'RELOAD-URI': string; 'PATHWAY-PRIORITY': string[] };
  assert.equal(tokenOf(manifest['RELOAD-URI']), token, manifest['RELOAD-URI']);
  assert.ok(manifest['PATHWAY-PRIORITY'].every((id) => pathways.has(id)));
  const reload = await get(new URL(manifest['RELOAD-URI'], balancer).href);
  assert.equal(reload.status, 200, 'the reload with the token works');

  // The redirect front: the Location names an edge and carries the token.
  const redirecting = await spawnStreamedge(['balancer', '--port', '0', '--consul', stack.consulUrl, '--mode', 'redirect', '--locations', SHIPPED_LOCATIONS_FILE, '--token-secret-file', keyFile]);
  t.after(() => redirecting.stop(3_000));
  const unsigned = await get(`${redirecting.url}${PREFIX}master.m3u8`);
  assert.deepEqual([unsigned.status, unsigned.body.trim()], [403, 'token missing']);
  let redirect = await get(`${redirecting.url}${PREFIX}master.m3u8?${token}`);
  for (let tries = 0; redirect.status === 503 && tries < 50; tries++) {
    // Its first Consul snapshot may still be on its way.
    await new Promise((resolve) => setTimeout(resolve, 200));
    redirect = await get(`${redirecting.url}${PREFIX}master.m3u8?${token}`);
  }
  assert.equal(redirect.status, 302, redirect.body);
  const location = String(redirect.headers.location);
  assert.ok(stack.edges.some((edge) => location.startsWith(`${edge.url}${PREFIX}master.m3u8?`)), location);
  assert.equal(tokenOf(location), token, location);
  const followed = await get(location);
  assert.equal(followed.status, 200, 'the edge accepts the redirected, signed master request');
  assert.ok(!redirecting.output().includes(token.slice(3, 20)), 'no token in the redirect balancer log');
});
