import assert from 'node:assert/strict';
import cluster, { type Worker } from 'node:cluster';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { answerAsks, askWorkers } from './cluster-request.js';

const WORKER_COUNT = 2;

const workers = (): Worker[] => Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined);
const workerIds = (): number[] => workers().map((worker) => worker.id).sort();

describe('cluster-request (this process as primary, two real workers)', () => {
  const shoutAskers: number[] = [];

  before(async () => {
    answerAsks<string>('test:shout', (asker, word) => {
      shoutAskers.push(asker!.id);
      return word.toUpperCase();
    });
    cluster.setupPrimary({ exec: fileURLToPath(new URL('./cluster-request.test-worker.js', import.meta.url)) });
    await new Promise<void>((resolve) => {
      let ready = 0;
      cluster.on('message', (_worker, message) => {
        if (message === 'ready' && ++ready === WORKER_COUNT) resolve();
      });
      for (let i = 0; i < WORKER_COUNT; i++) cluster.fork();
    });
  });

  after(() => new Promise<void>((resolve) => cluster.disconnect(resolve)));

  it('carries the payload of an ask to every worker', async () => {
    const { asked, answers } = await askWorkers<{ worker: number; payload: unknown }>('test:echo', 2_000, { payload: { word: 'hi' } });
    assert.equal(asked, WORKER_COUNT);
    assert.deepEqual(answers.map((answer) => answer.payload), [{ word: 'hi' }, { word: 'hi' }]);
    assert.deepEqual(answers.map((answer) => answer.worker).sort(), workerIds());
  });

  it('leaves out the excepted worker', async () => {
    const [except, other] = workers();
    const { asked, answers } = await askWorkers<{ worker: number }>('test:echo', 2_000, { except });
    assert.equal(asked, 1);
    assert.deepEqual(answers.map((answer) => answer.worker), [other!.id]);
  });

  it("carries a worker's payload to the primary, which knows the asker", async () => {
    const { answers } = await askWorkers<string>('test:relay', 2_000, { payload: 'hello' });
    assert.deepEqual(answers, ['HELLO', 'HELLO']);
    assert.deepEqual(shoutAskers.sort(), workerIds());
  });

  it('rejects an ask nobody answers with a reason', async () => {
    const { answers } = await askWorkers<string>('test:relay-unanswered', 2_000);
    assert.deepEqual(answers, ['nothing answers test:nobody', 'nothing answers test:nobody']);
  });

  it('settles within the timeout with the answers that came', async () => {
    const { asked, answers } = await askWorkers<string>('test:silent', 100);
    assert.equal(asked, WORKER_COUNT);
    assert.deepEqual(answers, []);
  });
});
