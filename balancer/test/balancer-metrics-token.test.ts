// --metrics-token-file at the balancer: /metrics and /status describe the topology, so with a token
// set they answer only to it; the viewer endpoints stay open.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStandInEdge, type StandInEdge } from './stand-in-edge.js';
import { edgeNode, startBalancer } from './test-balancer.js';

describe('balancer metrics token', () => {
  const token = 'metrics-token-0123456789';
  let standIn: StandInEdge;
  let b: Awaited<ReturnType<typeof startBalancer>>;
  before(async () => {
    standIn = await startStandInEdge('edge-1');
    b = await startBalancer('redirect', [edgeNode(standIn, 'us-east', 39, -77)], { metricsToken: token });
  });
  after(async () => {
    await b.close();
    await standIn.kill();
  });

  for (const path of ['/metrics', '/status', '/status.html']) {
    it(`answers ${path} only with the token: 401 without, 403 with a wrong one`, async () => {
      const missing = await fetch(`${b.url}${path}`);
      assert.equal(missing.status, 401);
      assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
      assert.equal((await fetch(`${b.url}${path}`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status, 403);
      assert.equal((await fetch(`${b.url}${path}`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    });
  }

  it('leaves /healthz and media paths open', async () => {
    assert.equal((await fetch(`${b.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${b.url}/vod/demo-ts/720p/seg-00000.ts`, { redirect: 'manual' })).status, 302);
  });
});
