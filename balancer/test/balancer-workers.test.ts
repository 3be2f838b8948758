import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { spawnStreamedge, type StreamedgeProcess } from '../../stack/streamedge-process.js';
import { get } from './http-test-client.js';
import { waitFor } from '../../infra/testing/wait-for.js';
import { startStandInEdge, type StandInEdge } from './stand-in-edge.js';
import type { StatusReport } from '../status-report.js';

async function childPids(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return text.split(' ').filter(Boolean).map(Number);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sum of the samples of `name` whose labels include `labels` (Prometheus text format). */
function sampleSum(metrics: string, name: string, labels: string): number {
  return metrics
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && line.includes(labels))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

async function statusOf(url: string, timeoutMs?: number): Promise<StatusReport> {
  const reply = await get(`${url}/status`, { headers: { accept: 'application/json' }, timeoutMs });
  assert.equal(reply.status, 200, reply.body);
  return JSON.parse(reply.body) as StatusReport;
}

describe('balancer --workers (node:cluster, proxy mode)', () => {
  let edge: StandInEdge;
  let spec: string;
  before(async () => {
    edge = await startStandInEdge('edge-1');
    spec = `${edge.url};id=edge-1;region=us-east;lat=39.04;lon=-77.49`;
  });
  after(() => edge.kill());

  it('serves from every worker on one port, announces it once, and stops them all on SIGTERM', async () => {
    const balancer: StreamedgeProcess = await spawnStreamedge(['balancer', '--port', '0', '--mode', 'proxy', '--workers', '2', '--edge', spec]);
    try {
      const workers = await waitFor('two workers', async () => ((await childPids(balancer.child.pid!)).length === 2 ? childPids(balancer.child.pid!) : undefined), 10_000);
      // Separate connections: the primary hands each to one worker.
      const replies = await Promise.all(Array.from({ length: 20 }, () => get(`${balancer.url}/vod/demo-ts/master.m3u8`)));
      assert.deepEqual(new Set(replies.map((reply) => reply.status)), new Set([200]));
      assert.ok(edge.seen.filter((seen) => seen.path === '/vod/demo-ts/master.m3u8').length >= 20);
      assert.equal(balancer.output().split('\n').filter((line) => line.includes('"msg":"listening"')).length, 1);
      assert.equal(await balancer.stop(10_000), 0);
      for (const pid of workers) assert.equal(isAlive(pid), false, `worker ${pid} still running`);
    } finally {
      await balancer.kill();
    }
  });

  it('/metrics and /status count the requests and sessions of every worker', async () => {
    const balancer = await spawnStreamedge(['balancer', '--port', '0', '--mode', 'proxy', '--workers', '2', '--edge', spec]);
    try {
      // 20 viewers, one connection each: the primary deals the connections out to both workers.
      const viewers = Array.from({ length: 20 }, (_, i) => `127.0.1.${i + 1}`);
      const replies = await Promise.all(viewers.map((localAddress) => get(`${balancer.url}/vod/demo-ts/master.m3u8`, { localAddress })));
      assert.deepEqual(new Set(replies.map((reply) => reply.status)), new Set([200]));
      // Each scrape is a new connection, so both workers serve some and each must report the whole.
      for (let scrape = 0; scrape < 4; scrape++) {
        const metrics = (await get(`${balancer.url}/metrics`)).body;
        assert.equal(sampleSum(metrics, 'streamedge_balancer_requests_total', 'front="proxy"'), 20, metrics);
        assert.equal(sampleSum(metrics, 'streamedge_balancer_selected_total', 'edge="edge-1"'), 20);
        assert.equal(sampleSum(metrics, 'streamedge_balancer_active_sessions', 'edge="edge-1"'), 20);
        // Each worker's own view of an edge's health is not a count: both say up, the cluster says 1.
        assert.equal(sampleSum(metrics, 'streamedge_balancer_edge_up', 'edge="edge-1"'), 1);
        const status = await statusOf(balancer.url);
        assert.equal(status.activeSessions, 20);
        assert.deepEqual(status.edges.map((edge) => [edge.id, edge.activeSessions]), [['edge-1', 20]]);
        assert.deepEqual(status.workers, { count: 2, answered: 2 });
      }
      assert.equal(await balancer.stop(10_000), 0);
    } finally {
      await balancer.kill();
    }
  });

  it('/status answers without a stopped worker and says so', async () => {
    const balancer = await spawnStreamedge(['balancer', '--port', '0', '--mode', 'proxy', '--workers', '2', '--edge', spec]);
    const [stopped] = await waitFor('two workers', async () => ((await childPids(balancer.child.pid!)).length === 2 ? childPids(balancer.child.pid!) : undefined), 10_000);
    process.kill(stopped!, 'SIGSTOP');
    try {
      // The primary hands a stopped worker at most one connection (it waits for its acceptance), so
      // of two connections at least one reaches the running worker.
      const status = await Promise.any([statusOf(balancer.url, 5_000), statusOf(balancer.url, 5_000)]);
      assert.deepEqual(status.workers, { count: 2, answered: 1 });
      process.kill(stopped!, 'SIGCONT');
      await waitFor('both workers answering', async () => ((await statusOf(balancer.url)).workers?.answered === 2 ? true : undefined), 10_000);
      assert.equal(await balancer.stop(10_000), 0);
    } finally {
      if (isAlive(stopped!)) process.kill(stopped!, 'SIGCONT');
      await balancer.kill();
    }
  });

  it('workers exit when their primary is SIGKILLed', async () => {
    const balancer = await spawnStreamedge(['balancer', '--port', '0', '--mode', 'proxy', '--workers', '2', '--edge', spec]);
    const workers = await waitFor('two workers', async () => ((await childPids(balancer.child.pid!)).length === 2 ? childPids(balancer.child.pid!) : undefined), 10_000);
    await balancer.kill();
    await waitFor('workers gone', async () => (workers.every((pid) => !isAlive(pid)) ? true : undefined), 10_000);
  });

  it('refuses --workers in steering mode (exit code 2)', async () => {
    await assert.rejects(spawnStreamedge(['balancer', '--port', '0', '--workers', '2', '--edge', spec]), /exited \(2\)/);
  });
});
