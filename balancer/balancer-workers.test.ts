import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { spawnStreamedge, type StreamedgeProcess } from '../infra/testing/streamedge-process.js';
import { get } from './http-test-client.js';
import { waitFor } from '../infra/testing/wait-for.js';
import { startStandInEdge, type StandInEdge } from './stand-in-edge.js';

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
