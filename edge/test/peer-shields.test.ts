// Shields hashing keys among themselves (real `edge --tier shield` processes found through a real
// Consul agent), with an origin slower than the peer alive timeout and then a peer that freezes
// (SIGSTOP: the kernel still accepts its connections, nothing answers — what a cut region looks like
// from the other side of a router). The owner's 102 heartbeat keeps a slow fill to one origin
// request; a frozen owner costs one fill the alive timeout and is skipped after that.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startDevAgent, type DevAgent } from '../../infra/consul/dev-agent.js';
import { rendezvousOwner } from '../../infra/hashing/rendezvous-hash.js';
import { sumMetric } from '../../infra/prometheus/prometheus-text.js';
import { waitFor } from '../../infra/testing/wait-for.js';
import { spawnStreamedge, type StreamedgeProcess } from '../../stack/streamedge-process.js';
import { object, startTestOrigin, type TestOrigin } from './test-origin.js';

const CLI = fileURLToPath(new URL('../../stack/cli/streamedge.js', import.meta.url));
const ALIVE_MS = 500;
const SHIELDS = ['shield-p1', 'shield-p2'];

async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  return sumMetric(await (await fetch(`${url}/metrics`)).text(), name, labels);
}

async function timedGet(url: string): Promise<{ status: number; cacheStatus: string; ms: number }> {
  const started = performance.now();
  const response = await fetch(url);
  await response.arrayBuffer();
  return { status: response.status, cacheStatus: response.headers.get('cache-status') ?? '', ms: performance.now() - started };
}

describe('peer shields with a slow origin, then a frozen peer', () => {
  let consul: DevAgent;
  let origin: TestOrigin;
  let dir: string;
  let originDelayMs = 1200;
  const shields: StreamedgeProcess[] = [];
  before(async () => {
    consul = await startDevAgent();
    origin = await startTestOrigin();
    dir = await mkdtemp(join(tmpdir(), 'streamedge-peer-shields-'));
    const secretFile = join(dir, 'sibling.secret');
    await writeFile(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
    // The scripted origin registers as a real one does (meta url), so the shields find it in Consul.
    const register = await fetch(`${consul.url}/v1/agent/service/register`, {
      method: 'PUT',
      body: JSON.stringify({ ID: 'origin-scripted', Name: 'streamedge-origin', Address: '127.0.0.1', Port: Number(new URL(origin.url).port), Meta: { url: origin.url } }),
    });
    assert.equal(register.status, 200, await register.text());
    for (const id of SHIELDS) {
      shields.push(await spawnStreamedge(['edge', '--tier', 'shield', '--id', id, '--region', id === 'shield-p1' ? 'us-east' : 'eu-west', '--port', '0', '--consul', consul.url,
        '--workers', '1', '--prefetch', '0', '--hedge-delay', '0', '--sibling-secret-file', secretFile, '--peer-alive-timeout', `${ALIVE_MS}ms`]));
    }
    for (const shield of shields) {
      await waitFor('the peer and the origin known', async () => ((await metric(shield.url, 'streamedge_edge_peers')) === 1 && (await metric(shield.url, 'streamedge_edge_origin_replicas')) === 1 ? true : undefined), 20_000);
    }
  });
  after(async () => {
    for (const shield of shields) shield.child.kill('SIGCONT');
    await Promise.all(shields.map((shield) => shield.kill()));
    await origin?.close();
    await consul?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const route = (path: string): void =>
    origin.route(path, (req, res) => {
      setTimeout(() => object(Buffer.from(`bytes of ${path}`))(req, res), originDelayMs);
    });

  it(`an owner waiting ${1200} ms on the origin keeps its peer waiting with 102s (alive timeout ${ALIVE_MS} ms): one origin request per object`, async () => {
    const paths = Array.from({ length: 8 }, (_, i) => `/vod/peers/seg-${String(i).padStart(5, '0')}.ts`);
    paths.forEach(route);
    const answers = await Promise.all(shields.flatMap((shield) => paths.map(async (path) => ({ shield, path, ...(await timedGet(`${shield.url}${path}`)) }))));
    for (const answer of answers) assert.equal(answer.status, 200, `${answer.path}: ${answer.cacheStatus}`);
    for (const path of paths) assert.equal(origin.hits.get(path), 1, `${path}: ${origin.hits.get(path)} origin requests`);
    // A key the other shield owns went through it: two members in Cache-Status, the owner first.
    const hopped = answers.filter((answer) => answer.cacheStatus.split(', ').length === 2);
    assert.ok(hopped.length > 0, 'some keys were owned by the other shield');
    for (const shield of shields) {
      assert.equal(await metric(shield.url, 'streamedge_edge_tier_requests_total', { outcome: 'silent' }), 0, 'no owner was given up on');
      assert.equal(await metric(shield.url, 'streamedge_edge_peer_hops_waiting'), 0);
    }
  });

  it(`a frozen owner costs one fill about ${ALIVE_MS} ms, is ejected at once, and its other keys go straight to the origin`, async () => {
    originDelayMs = 0;
    const [asking, frozen] = shields as [StreamedgeProcess, StreamedgeProcess];
    const theirs = Array.from({ length: 40 }, (_, i) => `/vod/frozen/seg-${String(i).padStart(5, '0')}.ts`).filter((path) => rendezvousOwner(SHIELDS, path) === 'shield-p2').slice(0, 6);
    assert.equal(theirs.length, 6);
    theirs.forEach(route);
    frozen.child.kill('SIGSTOP');
    try {
      const answers = [];
      for (const path of theirs) answers.push({ path, ...(await timedGet(`${asking.url}${path}`)) });
      const times = answers.map((answer) => Math.round(answer.ms));
      for (const answer of answers) assert.equal(answer.status, 200, `${answer.path}: ${answer.cacheStatus}`);
      assert.ok(times[0]! >= ALIVE_MS - 50 && times[0]! < ALIVE_MS + 1000, `the first fill gave up on the frozen owner after its alive timeout: ${times.join(', ')} ms`);
      assert.ok(times.slice(1).every((ms) => ms < ALIVE_MS), `later fills skipped it: ${times.join(', ')} ms`);
      assert.equal(await metric(asking.url, 'streamedge_edge_tier_requests_total', { replica: 'shield-p2', outcome: 'silent' }), 1);
      assert.equal(await metric(asking.url, 'streamedge_edge_tier_ejections_total', { replica: 'shield-p2', reason: 'failures' }), 1);
      for (const path of theirs) assert.equal(origin.hits.get(path), 1, path);
    } finally {
      frozen.child.kill('SIGCONT');
    }
  });
});

it('--peer-alive-timeout is refused under two heartbeats, and at or above the peer hop\'s headers timeout', async () => {
  const refusal = async (...flags: string[]): Promise<string> => {
    const error = await promisify(execFile)(process.execPath, [CLI, 'edge', '--origin', 'http://127.0.0.1:9', '--port', '0', ...flags]).then(() => undefined, (failure: { code?: number; stderr?: string }) => failure);
    assert.equal(error?.code, 2, `exit code 2 for ${flags.join(' ')}`);
    return error.stderr ?? '';
  };
  assert.match(await refusal('--peer-alive-timeout', '100ms'), /--peer-alive-timeout: expected a value from 500 to 60000, got "100ms"/);
  assert.match(await refusal('--peer-alive-timeout', '10s', '--origin-timeout', '5s'), /--peer-alive-timeout: must be below the peer hop's headers timeout, 2 × --origin-timeout \(10000 ms\)/);
});
