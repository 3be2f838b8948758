import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Agent, request, type Dispatcher } from 'undici';
import { ensureTestCatalog } from '../origin/test/catalog-fixture.js';
import { checkStackHealth } from './health-monitor.js';
import { passingServiceIds, startLocalStack } from './local-stack.js';
import { MMAP_THRESHOLD_BYTES } from '../infra/runtime/malloc-tuning.js';
import { isProcessAlive } from '../infra/runtime/process-alive.js';
import { waitFor } from '../infra/testing/wait-for.js';
import { ffmpegPidOf } from './live-encoder-supervisor.js';
import { QUICK_STOP_ARGS } from './test/quick-stop-fixture.js';

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
  const stack = await startLocalStack({ contentDir, edgeCacheSize: '64MB', extraArgs: QUICK_STOP_ARGS });
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

  // Every service runs with glibc's mmap threshold fixed, as the deploy units run them.
  for (const service of stack.services) {
    const environ = (await readFile(`/proc/${service.process.child.pid}/environ`, 'latin1')).split('\0');
    assert.ok(environ.includes(`MALLOC_MMAP_THRESHOLD_=${process.env.MALLOC_MMAP_THRESHOLD_ ?? MMAP_THRESHOLD_BYTES}`), `${service.id} runs without the malloc setting`);
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

test('the live encoder is supervised: started again when killed, numbering carried on, stopped with the stack', { timeout: 120_000 }, async (t) => {
  const contentDir = await mkdtemp(join(tmpdir(), 'streamedge-stack-live-'));
  t.after(() => rm(contentDir, { recursive: true, force: true }));
  const progress: string[] = [];
  const stack = await startLocalStack({
    contentDir,
    originCount: 1,
    edges: [],
    balancer: false,
    live: { id: 'news', input: 'lavfi:testsrc2=size=320x180:rate=30', args: ['--rendition', '144p', '--preset', 'ultrafast', '--segment-seconds', '1'] },
    onProgress: (message) => progress.push(message),
  });
  t.after(() => stack.stop());
  const playlistUrl = `${stack.origins[0]!.url}/live/news/144p/index.m3u8`;
  assert.equal((await fetch(playlistUrl)).status, 200, 'the stack is up once the channel publishes');
  const first = stack.liveEncoder!.current()!;
  const firstFfmpeg = ffmpegPidOf(first.output())!;
  assert.ok(firstFfmpeg, first.output());

  first.child.kill('SIGKILL');
  await waitFor('the encoder started again', async () => (stack.liveEncoder!.restarts() === 1 ? true : undefined), 30_000, 100);
  const second = stack.liveEncoder!.current()!;
  assert.notEqual(second.child.pid, first.child.pid);
  assert.equal(isProcessAlive(firstFfmpeg), false, "the killed encoder's ffmpeg was stopped by its successor");
  assert.ok(progress.some((line) => /live encoder exited \(SIGKILL\); starting it again in 1000 ms/.test(line)), progress.join('\n'));
  const resumed = await waitFor('segments of the new run', async () => {
    const text = await (await fetch(playlistUrl)).text();
    return /#EXT-X-DISCONTINUITY\n(?:#[^\n]*\n)+seg-\d+\.ts\n(?:#[^\n]*\n)+seg-\d+\.ts\n/.test(text) ? text : undefined;
  }, 20_000, 250);
  const numbers = [...resumed.matchAll(/^seg-(\d+)\.ts$/gm)].map((match) => Number(match[1]));
  assert.deepEqual(numbers, numbers.map((_, i) => numbers[0]! + i), 'one run of numbers across the restart');

  const secondFfmpeg = ffmpegPidOf(second.output())!;
  await stack.stop();
  for (const pid of [second.child.pid!, secondFfmpeg]) assert.equal(isProcessAlive(pid), false, `process ${pid} outlived stop()`);
  assert.equal(stack.liveEncoder!.restarts(), 1, 'a stopped encoder is not started again');
});
