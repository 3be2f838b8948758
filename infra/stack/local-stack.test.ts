import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ensureTestCatalog } from '../../origin/test-catalog.js';
import { passingServiceIds, startLocalStack } from './local-stack.js';
import { isProcessAlive } from './process-alive.js';

async function refusesConnections(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
    return false;
  } catch {
    return true;
  }
}

test('the local stack starts every service healthy in Consul and stop() leaves no process behind', { timeout: 120_000 }, async (t) => {
  const contentDir = await ensureTestCatalog();
  const stack = await startLocalStack({ contentDir, edgeCacheSize: '64MB' });
  t.after(() => stack.stop());

  assert.deepEqual(stack.origins.map((origin) => origin.id), ['origin-1', 'origin-2']);
  assert.deepEqual(stack.edges.map((edge) => [edge.id, edge.region]), [['edge-1', 'us-east'], ['edge-2', 'us-east'], ['edge-3', 'eu-west']]);
  for (const service of stack.services) {
    const response = await fetch(`${service.url}/healthz`);
    assert.equal(response.status, 200, `${service.id} /healthz`);
  }
  assert.deepEqual((await passingServiceIds(stack.consulUrl, 'streamedge-origin')).sort(), ['origin-1', 'origin-2']);
  assert.deepEqual((await passingServiceIds(stack.consulUrl, 'streamedge-edge')).sort(), ['edge-1', 'edge-2', 'edge-3']);

  // The edges carry their place, and serve the origins' catalog.
  const registered = (await (await fetch(`${stack.consulUrl}/v1/catalog/service/streamedge-edge`)).json()) as {
    ServiceID: string;
    ServiceMeta: Record<string, string>;
  }[];
  const edge3 = registered.find((entry) => entry.ServiceID === 'edge-3');
  assert.equal(edge3?.ServiceMeta.region, 'eu-west');
  assert.equal(edge3?.ServiceMeta.url, stack.edges[2]!.url);
  const playlist = await fetch(`${stack.edges[0]!.url}/vod/demo-ts/master.m3u8`);
  assert.equal(playlist.status, 200);
  assert.equal(playlist.headers.get('x-served-by'), 'edge-1');
  assert.match(await playlist.text(), /^#EXTM3U/);
  assert.ok(stack.balancerUrl);
  const status = await fetch(`${stack.balancerUrl}/status`);
  assert.equal(status.status, 200);
  await status.body?.cancel();

  const pids = [...stack.services.map((service) => service.process.child.pid!), stack.consul.pid!];
  await stack.stop();
  for (const pid of pids) assert.equal(isProcessAlive(pid), false, `process ${pid} outlived stop()`);
  for (const url of [stack.consulUrl, ...stack.services.map((service) => service.url)]) {
    assert.ok(await refusesConnections(url), `${url} still answers after stop()`);
  }
});
