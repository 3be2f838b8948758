import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { EdgeError } from '../errors.js';
import { deadOriginUrl, object, startTestOrigin, type TestOrigin } from '../test/test-origin.js';
import { createUpstreamClient, discardBody, type AttemptOutcome, type UpstreamClientOptions } from './upstream-client.js';

const DEFAULTS: UpstreamClientOptions = {
  hedgeDelayMs: 0,
  connectTimeoutMs: 1000,
  headersTimeoutMs: 2000,
  bodyTimeoutMs: 2000,
  connectionsPerReplica: 8,
  ejectAfterFailures: 2,
  ejectForMs: 200,
};

describe('upstream client', () => {
  let live: TestOrigin;
  let slow: TestOrigin;
  let dead: string;
  before(async () => {
    live = await startTestOrigin();
    slow = await startTestOrigin();
    dead = await deadOriginUrl();
    for (let i = 0; i < 20; i++) {
      const path = `/o/${i}.ts`;
      live.route(path, object(Buffer.from(`body ${i}`)));
      slow.route(path, (req, res) => {
        const timer = setTimeout(() => object(Buffer.from(`body ${i}`))(req, res), 1500);
        res.on('close', () => clearTimeout(timer));
      });
    }
  });
  after(async () => {
    await live.close();
    await slow.close();
  });

  it('fails over from a dead replica, then ejects it for a while', async () => {
    const attempts: [string, AttemptOutcome][] = [];
    const ejected: string[] = [];
    const client = createUpstreamClient({ ...DEFAULTS, observer: { onAttempt: (replica, outcome) => attempts.push([replica, outcome]), onEject: (replica) => ejected.push(replica) } });
    client.setReplicas([{ id: 'dead', url: dead }, { id: 'live', url: live.url }]);
    try {
      for (let i = 0; i < 10; i++) {
        const response = await client.fetch(`/o/${i}.ts`);
        assert.equal(response.status, 200);
        assert.equal(response.replica, 'live');
        discardBody(response.body);
      }
      const deadAttempts = attempts.filter(([replica]) => replica === 'dead');
      assert.ok(deadAttempts.length >= 1 && deadAttempts.length <= 2, `dead replica tried ${deadAttempts.length} times`);
      assert.ok(deadAttempts.every(([, outcome]) => outcome === 'connect'));
      // Whether the dead replica reached its failure limit depends on the per-object order.
      if (deadAttempts.length === 2) {
        assert.deepEqual(ejected, ['dead']);
        assert.deepEqual(client.ejected, ['dead']);
        await sleep(250);
        assert.deepEqual(client.ejected, [], 'ejection lasts ejectForMs');
      }
    } finally {
      await client.close();
    }
  });

  it('treats a 5xx as a failure and asks the next replica', async () => {
    const failing = await startTestOrigin();
    failing.route('/o/1.ts', (_req, res) => {
      res.writeHead(503);
      res.end();
    });
    const client = createUpstreamClient(DEFAULTS);
    client.setReplicas([{ id: 'failing', url: failing.url }, { id: 'live', url: live.url }]);
    try {
      for (let i = 0; i < 3; i++) {
        const response = await client.fetch('/o/1.ts');
        assert.equal(response.status, 200);
        discardBody(response.body);
      }
    } finally {
      await client.close();
      await failing.close();
    }
  });

  it('when every replica answers 5xx, resolves with the last real answer (status and body), not an error of its own', async () => {
    const failing = await startTestOrigin();
    const other = await startTestOrigin();
    for (const [server, text] of [[failing, 'first'], [other, 'second']] as const) {
      server.route('/o/5xx.ts', (_req, res) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`${text} explains`);
      });
    }
    const attempts: AttemptOutcome[] = [];
    const client = createUpstreamClient({ ...DEFAULTS, hedgeDelayMs: 0, observer: { onAttempt: (_replica, outcome) => attempts.push(outcome) } });
    client.setReplicas([{ id: 'failing', url: failing.url }, { id: 'other', url: other.url }]);
    try {
      const response = await client.fetch('/o/5xx.ts');
      assert.equal(response.status, 500);
      assert.match(Buffer.from(await response.body.toArray().then((chunks) => Buffer.concat(chunks as Buffer[]))).toString(), /^(first|second) explains$/);
      assert.deepEqual(attempts, ['http-5xx', 'http-5xx'], 'both replicas were tried first');
      assert.equal(failing.total() + other.total(), 2);
    } finally {
      await client.close();
      await failing.close();
      await other.close();
    }
  });

  it('hedges to a second replica when the first is slow to answer headers', async () => {
    const hedged: string[] = [];
    const client = createUpstreamClient({ ...DEFAULTS, hedgeDelayMs: 50, observer: { onHedge: (replica) => hedged.push(replica) } });
    client.setReplicas([{ id: 'slow', url: slow.url }, { id: 'live', url: live.url }]);
    try {
      for (let i = 0; i < 8; i++) {
        const started = performance.now();
        const response = await client.fetch(`/o/${i}.ts`);
        assert.equal(response.replica, 'live');
        assert.ok(performance.now() - started < 1000, 'never waits for the slow replica');
        if (response.hedged) assert.ok(hedged.length > 0, 'a hedged answer follows a hedge');
        discardBody(response.body);
      }
      // With 8 objects, the slow replica comes first for some of them (rendezvous order), and those
      // are hedged to the live one. (On a loaded machine the live replica may itself miss the 50 ms
      // and be hedged to the slow one; that is hedging too, so it is not an error here.)
      assert.ok(hedged.includes('live'), `hedges: ${hedged.join(', ')}`);
    } finally {
      await client.close();
    }
  });

  it('reports an upstream, retryable error when every replica fails', async () => {
    const attempts: AttemptOutcome[] = [];
    const client = createUpstreamClient({ ...DEFAULTS, observer: { onAttempt: (_replica, outcome) => attempts.push(outcome) } });
    client.setReplicas([{ id: 'dead', url: dead }]);
    try {
      await assert.rejects(client.fetch('/o/1.ts'), (error: unknown) => {
        assert.ok(error instanceof EdgeError);
        assert.equal(error.source, 'upstream');
        assert.equal(error.retryable, true);
        assert.equal(error.reason, 'connect');
        return true;
      });
      assert.equal(attempts.length, 2, 'a lone replica is tried twice');
      client.setReplicas([]);
      await assert.rejects(client.fetch('/o/1.ts'), /no origin replica/);
    } finally {
      await client.close();
    }
  });

  it('validates its options', () => {
    assert.throws(() => createUpstreamClient({ ...DEFAULTS, connectTimeoutMs: 0 }), /connectTimeoutMs/);
    const client = createUpstreamClient(DEFAULTS);
    assert.throws(() => client.setReplicas([{ id: 'a', url: 'ftp://x' }]), /http/);
    assert.throws(() => client.setReplicas([{ id: 'a', url: live.url }, { id: 'a', url: live.url }]), /unique/);
  });
});
