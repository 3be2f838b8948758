import assert from 'node:assert/strict';
import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { waitFor } from '../testing/wait-for.js';
import { startClusterPrimary } from './cluster-primary.js';

const live = (): Worker[] => Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && !worker.isDead());

describe('cluster-primary (this process as primary, real workers)', () => {
  const lines: string[] = [];
  const logger = pino({ base: null }, { write: (line: string) => void lines.push(line) });

  before(() => cluster.setupPrimary({ exec: fileURLToPath(new URL('./cluster-primary.test-worker.js', import.meta.url)) }));
  after(() => {
    for (const worker of live()) worker.kill('SIGKILL');
  });

  it('refuses options it cannot run with, naming them', () => {
    assert.throws(() => startClusterPrimary({ workers: 0, name: 'test', logger }), { name: 'TypeError', message: /workers must be an integer ≥ 1, got 0/ });
    assert.throws(() => startClusterPrimary({ workers: 1.5, name: 'test', logger }), { name: 'TypeError', message: /workers/ });
    assert.throws(() => startClusterPrimary({ workers: 1, name: '', logger }), { name: 'TypeError', message: /name/ });
    assert.equal(live().length, 0);
  });

  it('gives the shared port once every worker listens, replaces a worker that dies, and stops them all', async () => {
    const primary = startClusterPrimary({ workers: 2, name: 'test', logger, env: { TEST_WORKER_BEHAVIOUR: 'serve' } });
    const port = await primary.listening;
    assert.equal(live().length, 2);
    assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 200);

    const [victim] = live();
    // A worker told to close before it has loaded would not hear it: wait until the new one listens.
    const replacementListens = once(cluster, 'listening');
    victim!.process.kill('SIGKILL');
    await replacementListens;
    const replaced = live();
    assert.equal(replaced.length, 2);
    assert.ok(!replaced.includes(victim!));
    assert.ok(lines.some((line) => /"worker":\d+.*"msg":"test worker died; starting another"/.test(line)), lines.join(''));

    let asked: Worker[] = [];
    await primary.stopWorkers((workers) => {
      asked = [...workers];
      for (const worker of workers) worker.send('close');
    }, 5_000);
    assert.deepEqual(asked.map((worker) => worker.id).sort(), replaced.map((worker) => worker.id).sort());
    assert.equal(live().length, 0);
  });

  it('does not replace workers once a drain has begun', async () => {
    const primary = startClusterPrimary({ workers: 1, name: 'test', logger });
    await primary.listening;
    primary.stopReplacing();
    const [worker] = live();
    await new Promise<void>((resolve) => {
      worker!.once('exit', () => resolve());
      worker!.process.kill('SIGKILL');
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(live().length, 0);
    await primary.stopWorkers(() => {}, 1_000);
  });

  it('kills workers that have not closed by the deadline', async () => {
    const primary = startClusterPrimary({ workers: 2, name: 'test', logger, env: { TEST_WORKER_BEHAVIOUR: 'stubborn' } });
    await primary.listening;
    const started = Date.now();
    await primary.stopWorkers((workers) => workers.forEach((worker) => worker.send('close')), 300);
    assert.ok(Date.now() - started >= 290, `waited ${Date.now() - started} ms`);
    assert.equal(live().length, 0);
  });

  it('rejects, naming the worker, when one exits before listening, and stops the others', async () => {
    const primary = startClusterPrimary({ workers: 2, name: 'test', logger, env: { TEST_WORKER_BEHAVIOUR: 'fail' } });
    await assert.rejects(primary.listening, /^Error: test worker \d+ exited \(3\) before listening$/);
    await waitFor('the other worker to stop', async () => (live().length === 0 ? true : undefined), 5_000, 20);
  });
});
