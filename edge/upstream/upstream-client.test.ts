import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { EdgeError } from '../errors.js';
import { UPSTREAM_FAULT_HEADER } from '../../infra/http/upstream-fault.js';
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

  it('a replica whose body was corrupt is out for ejectForMs, twice as long each time it comes back corrupt, up to the cap, until a body checks out', async () => {
    const ejections: [string, string, number][] = [];
    const client = createUpstreamClient({ ...DEFAULTS, ejectForMs: 100, maxEjectForMs: 250, observer: { onEject: (replica, reason, forMs) => ejections.push([replica, reason, forMs]) } });
    const other = await startTestOrigin();
    other.route('/o/1.ts', object(Buffer.from('body 1')));
    client.setReplicas([{ id: 'a', url: live.url }, { id: 'b', url: other.url }]);
    // Which replica serves /o/1.ts first is the rendezvous order; the one that does is the corrupt one here.
    const first = await client.fetch('/o/1.ts');
    discardBody(first.body);
    const bad = first.replica;
    const good = bad === 'a' ? 'b' : 'a';
    try {
      assert.equal(client.eject(bad), 100);
      assert.deepEqual(client.ejected, [bad]);
      // Bodies fetched before it went out (concurrent fills) do not lengthen it.
      assert.ok(client.eject(bad)! <= 100);
      for (let i = 0; i < 3; i++) {
        const response = await client.fetch('/o/1.ts');
        discardBody(response.body);
        assert.equal(response.replica, good, 'later fetches go to the next replica');
      }
      await sleep(130);
      assert.deepEqual(client.ejected, [], 'back in rotation when the ejection ends');
      const back = await client.fetch('/o/1.ts');
      discardBody(back.body);
      assert.equal(back.replica, bad, 'its own objects go to it again');
      assert.equal(client.eject(bad), 200, 'corrupt again: out twice as long');
      // Its answers (a hedge, or the last replica left) do not end an ejection for corrupt bytes.
      client.setReplicas([{ id: bad, url: bad === 'a' ? live.url : other.url }]);
      const only = await client.fetch('/o/1.ts');
      discardBody(only.body);
      assert.deepEqual(client.ejected, [bad], 'still out after answering');
      client.setReplicas([{ id: 'a', url: live.url }, { id: 'b', url: other.url }]);
      await sleep(230);
      assert.equal(client.eject(bad), 250, 'the back-off is capped at maxEjectForMs');
      assert.equal(client.reportIntact(good), false, 'a replica never found corrupt has nothing to recover from');
      assert.equal(client.reportIntact(bad), true, 'a body that checks out ends the run');
      await sleep(280);
      assert.equal(client.eject(bad), 100, 'the next corrupt body starts the back-off afresh');
      assert.deepEqual(ejections.map(([replica, reason]) => [replica, reason]), Array(4).fill([bad, 'integrity']));
      assert.deepEqual(ejections.map(([, , forMs]) => forMs), [100, 200, 250, 100]);
      assert.equal(client.eject('gone'), undefined);
      assert.throws(() => createUpstreamClient({ ...DEFAULTS, maxEjectForMs: 100 }), /maxEjectForMs must be a number ≥ ejectForMs/);
    } finally {
      await client.close();
      await other.close();
    }
  });

  it('never hedges to a replica out for corrupt bytes: the slow answer is waited for instead', async () => {
    const attempts: string[] = [];
    const client = createUpstreamClient({ ...DEFAULTS, hedgeDelayMs: 50, ejectForMs: 10_000, observer: { onAttempt: (replica) => attempts.push(replica) } });
    client.setReplicas([{ id: 'slow', url: slow.url }, { id: 'corrupt', url: live.url }]);
    try {
      client.eject('corrupt');
      const response = await client.fetch('/o/2.ts');
      discardBody(response.body);
      assert.equal(response.replica, 'slow');
      assert.equal(response.hedged, false);
      assert.deepEqual(attempts, ['slow']);
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

  it('from a streamedge node, a 5xx naming an upstream fault is passed on but never ejects it; a plain 5xx does, and so does the field from an origin', async () => {
    const shield = await startTestOrigin();
    shield.route('/o/1.ts', (_req, res) => {
      res.writeHead(502, { [UPSTREAM_FAULT_HEADER]: 'reset' });
      res.end();
    });
    const ejected: string[] = [];
    const shieldAttempts: AttemptOutcome[] = [];
    const client = createUpstreamClient({
      ...DEFAULTS,
      trustsUpstreamFault: true,
      observer: { onEject: (replica) => ejected.push(replica), onAttempt: (replica, outcome) => void (replica === 'shield' && shieldAttempts.push(outcome)) },
    });
    client.setReplicas([{ id: 'shield', url: shield.url }]);
    try {
      for (let i = 0; i < 2 * DEFAULTS.ejectAfterFailures + 1; i++) {
        const response = await client.fetch('/o/1.ts');
        assert.equal(response.status, 502);
        assert.equal(response.headers[UPSTREAM_FAULT_HEADER], 'reset');
        discardBody(response.body);
      }
      assert.ok(shieldAttempts.length > DEFAULTS.ejectAfterFailures && shieldAttempts.every((outcome) => outcome === 'http-5xx'), shieldAttempts.join(', '));
      assert.deepEqual(ejected, []);
      assert.deepEqual(client.ejected, []);
      // The same 502 without the field is the shield's own failure: it is ejected as before.
      shield.route('/o/1.ts', (_req, res) => {
        res.writeHead(502);
        res.end();
      });
      for (let i = 0; i < 2 * DEFAULTS.ejectAfterFailures + 1; i++) discardBody((await client.fetch('/o/1.ts')).body);
      assert.deepEqual(ejected, ['shield']);
      // An origin client does not take the field's word.
      shield.route('/o/1.ts', (_req, res) => {
        res.writeHead(502, { [UPSTREAM_FAULT_HEADER]: 'reset' });
        res.end();
      });
      const originEjected: string[] = [];
      const origins = createUpstreamClient({ ...DEFAULTS, observer: { onEject: (replica) => originEjected.push(replica) } });
      origins.setReplicas([{ id: 'origin', url: shield.url }]);
      for (let i = 0; i < DEFAULTS.ejectAfterFailures; i++) discardBody((await origins.fetch('/o/1.ts')).body);
      assert.deepEqual(originEjected, ['origin']);
      await origins.close();
    } finally {
      await client.close();
      await shield.close();
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

  it('a held request is never hedged, waits past the headers timeout up to its own, and still fails over from a dead replica', async () => {
    const hedged: string[] = [];
    const ejected: string[] = [];
    const client = createUpstreamClient({ ...DEFAULTS, hedgeDelayMs: 50, headersTimeoutMs: 500, observer: { onHedge: (replica) => hedged.push(replica), onEject: (replica) => ejected.push(replica) } });
    try {
      // The slow replica first for every object, by rank: held 1.5 s, past the 500 ms headers timeout.
      client.setReplicas([{ id: 'slow', url: slow.url, rank: 0 }, { id: 'live', url: live.url, rank: 1 }]);
      for (let i = 0; i < 3; i++) {
        const response = await client.fetch(`/o/${i}.ts`, { heldWaitMs: 3000 });
        assert.equal(response.replica, 'slow');
        discardBody(response.body);
      }
      assert.deepEqual(hedged, []);
      // Held past its own wait: a timeout that neither blames the replica nor tries the next one.
      for (let i = 0; i < 3; i++) await assert.rejects(client.fetch(`/o/${i}.ts`, { heldWaitMs: 200 }), (error: EdgeError) => error.reason === 'timeout');
      assert.deepEqual(ejected, []);
      client.setReplicas([{ id: 'dead', url: dead, rank: 0 }, { id: 'live', url: live.url, rank: 1 }]);
      const response = await client.fetch('/o/0.ts', { heldWaitMs: 3000 });
      assert.equal(response.replica, 'live', 'a refused connection is the replica’s own failure');
      discardBody(response.body);
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

  it('caps requests in flight per replica, queues a bounded number, and refuses the rest with a retryable 503 naming Retry-After', async () => {
    const rejected: string[] = [];
    const client = createUpstreamClient({ ...DEFAULTS, connectionsPerReplica: 1, maxQueued: 1, queueWaitMs: 200, retryAfterSeconds: 2, observer: { onReject: (reason) => rejected.push(reason) } });
    client.setReplicas([{ id: 'slow', url: slow.url }]);
    try {
      const first = client.fetch('/o/10.ts');
      const second = client.fetch('/o/11.ts');
      const third = client.fetch('/o/12.ts');
      const busy = (reason: string) => (error: unknown): boolean => {
        assert.ok(error instanceof EdgeError);
        assert.equal(error.status, 503);
        assert.equal(error.reason, `origin-busy-${reason}`);
        assert.equal(error.retryAfterSeconds, 2);
        assert.equal(error.retryable, true);
        return true;
      };
      await assert.rejects(third, busy('queue-full'));
      assert.equal(client.inFlight, 1);
      assert.equal(client.queued, 1);
      await assert.rejects(second, busy('queue-timeout'));
      assert.equal(slow.hits.get('/o/11.ts') ?? 0, 0, 'a refused request never reached the origin');
      const response = await first;
      assert.equal(response.status, 200);
      await response.body.toArray();
      await sleep(10);
      assert.equal(client.inFlight, 0, 'the slot is given back once the body is read');
      assert.deepEqual(rejected, ['queue-full', 'queue-timeout']);
    } finally {
      await client.close();
    }
  });

  it('never hedges a request still waiting in the local queue (a saturated replica is not asked twice)', async () => {
    const a = await startTestOrigin();
    const b = await startTestOrigin();
    for (const server of [a, b]) {
      for (const i of [1, 2]) {
        server.route(`/q/${i}.ts`, (req, res) => {
          const timer = setTimeout(() => object(Buffer.from('late'))(req, res), 400);
          res.on('close', () => clearTimeout(timer));
        });
      }
    }
    const hedged: string[] = [];
    const client = createUpstreamClient({ ...DEFAULTS, hedgeDelayMs: 50, maxInFlight: 1, observer: { onHedge: (replica) => hedged.push(replica) } });
    client.setReplicas([{ id: 'a', url: a.url }, { id: 'b', url: b.url }]);
    try {
      const fetches = [client.fetch('/q/1.ts'), client.fetch('/q/2.ts')];
      await sleep(200);
      assert.equal(a.total() + b.total(), 1, 'one request sent, the other queued; the sent one found no free slot to hedge to');
      assert.equal(client.queued, 1);
      // In order: the second is sent only once the first's body is read (its slot given back).
      for (const fetching of fetches) await (await fetching).body.toArray();
      assert.deepEqual(hedged, []);
      assert.equal(a.total() + b.total(), 2, 'each request reached the origin exactly once');
    } finally {
      await client.close();
      await a.close();
      await b.close();
    }
  });

  it('cuts a fetch at its total deadline even while the origin keeps the body trickling under the idle timeout', async () => {
    const dribbling = await startTestOrigin();
    dribbling.route('/d/1.ts', (_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      const timer = setInterval(() => res.write('x'), 50);
      res.on('close', () => clearInterval(timer));
    });
    const client = createUpstreamClient({ ...DEFAULTS, deadlineMs: 300 });
    client.setReplicas([{ id: 'dribbling', url: dribbling.url }]);
    try {
      const started = performance.now();
      const response = await client.fetch('/d/1.ts');
      await assert.rejects(response.body.toArray(), (error: unknown) => {
        assert.ok(error instanceof EdgeError);
        assert.equal(error.reason, 'deadline');
        return true;
      });
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 250 && elapsed < 1500, `cut after ${elapsed} ms`);
      await sleep(10);
      assert.equal(client.inFlight, 0);
    } finally {
      await client.close();
      await dribbling.close();
    }
  });

  it('validates its options', () => {
    assert.throws(() => createUpstreamClient({ ...DEFAULTS, deadlineMs: 0 }), /deadlineMs/);
    assert.throws(() => createUpstreamClient({ ...DEFAULTS, maxInFlight: -1 }), /overall/);
    assert.throws(() => createUpstreamClient({ ...DEFAULTS, connectTimeoutMs: 0 }), /connectTimeoutMs/);
    const client = createUpstreamClient(DEFAULTS);
    assert.throws(() => client.setReplicas([{ id: 'a', url: 'ftp://x' }]), /http/);
    assert.throws(() => client.setReplicas([{ id: 'a', url: live.url }, { id: 'a', url: live.url }]), /unique/);
  });

  it('prefers a lower rank whatever the hash says, and falls to the next rank only when a whole rank fails', async () => {
    const near = await startTestOrigin();
    try {
      for (let i = 0; i < 20; i++) near.route(`/o/${i}.ts`, object(Buffer.from(`body ${i}`)));
      const client = createUpstreamClient(DEFAULTS);
      client.setReplicas([{ id: 'far', url: live.url, rank: 1 }, { id: 'near', url: near.url, rank: 0 }]);
      for (let i = 0; i < 20; i++) {
        const response = await client.fetch(`/o/${i}.ts`);
        assert.equal(response.replica, 'near');
        discardBody(response.body);
      }
      client.setReplicas([{ id: 'far', url: live.url, rank: 1 }, { id: 'near', url: dead, rank: 0 }]);
      const response = await client.fetch('/o/1.ts');
      assert.equal(response.replica, 'far');
      discardBody(response.body);
      await client.close();
    } finally {
      await near.close();
    }
  });

  it('with bounded loads, moves keys off a replica holding more than its share of requests in flight', async () => {
    const client = createUpstreamClient({ ...DEFAULTS, balanceFactor: 1 });
    client.setReplicas([{ id: 'a', url: slow.url }, { id: 'b', url: slow.url }]);
    const unbounded = createUpstreamClient(DEFAULTS);
    unbounded.setReplicas([{ id: 'a', url: slow.url }, { id: 'b', url: slow.url }]);
    // Without a bound, every key preferring 'a' goes to 'a'; with one, the two share the load.
    const [bounded, free] = await Promise.all([client, unbounded].map((upstream) => Promise.all(Array.from({ length: 12 }, (_, i) => upstream.fetch(`/o/${i}.ts`)))));
    const count = (responses: { replica: string }[], id: string): number => responses.filter((response) => response.replica === id).length;
    assert.ok(Math.abs(count(bounded!, 'a') - count(bounded!, 'b')) <= 1, `bounded: a=${count(bounded!, 'a')} b=${count(bounded!, 'b')}`);
    assert.notEqual(count(free!, 'a'), 6, 'the hash alone is not this even for these keys');
    for (const response of [...bounded!, ...free!]) discardBody(response.body);
    await client.close();
    await unbounded.close();
    assert.throws(() => createUpstreamClient({ ...DEFAULTS, balanceFactor: 0.5 }), /balanceFactor/);
  });
});
