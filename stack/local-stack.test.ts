import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Agent, request, type Dispatcher } from 'undici';
import { ensureTestCatalog } from '../origin/test/catalog-fixture.js';
import { checkStackHealth } from './health-monitor.js';
import { passingServiceIds, startLocalStack } from './local-stack.js';
import { isProcessAlive } from '../infra/runtime/process-alive.js';

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
  const health = await checkStackHealth(stack);
  assert.deepEqual(
    health.map((entry) => [entry.id, entry.state, entry.consul ?? '']),
    [['consul', 'healthy', ''], ...['origin-1', 'origin-2', 'edge-1', 'edge-2', 'edge-3'].map((id) => [id, 'healthy', 'passing']), ['balancer', 'healthy', '']],
  );

  // The shipped location table steers a viewer bound to 127.0.2.x to eu-west, 127.0.1.x to us-east.
  for (const [address, expected] of [['127.0.2.1', ['edge-3']], ['127.0.1.1', ['edge-1', 'edge-2']]] as const) {
    const dispatcher = new Agent({ localAddress: address });
    try {
      const reply: Dispatcher.ResponseData = await request(`${stack.balancerUrl}/vod/demo-ts/master.m3u8`, { dispatcher });
      const text: string = await reply.body.text();
      assert.equal(reply.statusCode, 200, text);
      const first = /#EXT-X-CONTENT-STEERING:.*PATHWAY-ID="([^"]+)"/.exec(text)?.[1];
      assert.ok(first && (expected as readonly string[]).includes(first), `viewer at ${address} steered to ${first}`);
    } finally {
      await dispatcher.close();
    }
  }

  const pids = [...stack.services.map((service) => service.process.child.pid!), stack.consul.pid!];
  await stack.stop();
  for (const pid of pids) assert.equal(isProcessAlive(pid), false, `process ${pid} outlived stop()`);
  for (const url of [stack.consulUrl, ...stack.services.map((service) => service.url)]) {
    assert.ok(await refusesConnections(url), `${url} still answers after stop()`);
  }
});

test('a failed start stops whatever had started (Consul, origins) and names the failing service', { timeout: 60_000 }, async () => {
  const contentDir = await ensureTestCatalog();
  const started: string[] = [];
  await assert.rejects(
    startLocalStack({
      contentDir,
      balancer: false,
      extraArgs: { edge: ['--no-such-flag'] },
      onProgress: (message) => started.push(...(message.match(/http:\/\/127\.0\.0\.1:\d+/g) ?? [])),
    }),
    /streamedge edge --id edge-\d .*exited \(2\) before listening:[\s\S]*--no-such-flag: unknown option/,
  );
  assert.equal(started.length, 3, `Consul and both origins had started: ${started.join(', ')}`);
  for (const url of started) assert.ok(await refusesConnections(url), `${url} still answers after the failed start`);
});
