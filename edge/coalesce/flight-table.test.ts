import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlightTable, type FlightListener, type FlightOutcome } from './flight-table.js';

interface Recorded {
  head?: string;
  data: string[];
  outcome?: FlightOutcome;
}

function recorder(): { listener: FlightListener<string>; seen: Recorded } {
  const seen: Recorded = { data: [] };
  return {
    seen,
    listener: {
      onHead: (head) => (seen.head = head),
      onData: (chunk) => seen.data.push(chunk.toString()),
      onEnd: (outcome) => (seen.outcome = outcome),
    },
  };
}

describe('flight table (request coalescing)', () => {
  it('the first caller is the writer, later callers read the same flight', () => {
    const table = new FlightTable<string>({ waitTimeoutMs: 1000 });
    const first = table.acquire('/a');
    const second = table.acquire('/a');
    assert.equal(first.writer, true);
    assert.equal(second.writer, false);
    assert.equal(second.flight, first.flight);
    assert.equal(table.acquire('/b').writer, true);
    first.flight.finish('done');
    assert.equal(table.acquire('/a').writer, true, 'a finished flight leaves the table');
  });

  it('an interim message reaches the readers waiting for the head, and is never replayed', () => {
    const table = new FlightTable<string, string>({ waitTimeoutMs: 1000 });
    const { flight } = table.acquire('/a');
    const seen: string[] = [];
    flight.subscribe({ onInterim: (interim) => seen.push(`early ${interim}`), onHead: (head) => seen.push(`early head ${head}`), onData: () => {}, onEnd: () => {} });
    flight.publishInterim('103');
    flight.subscribe({ onInterim: (interim) => seen.push(`late ${interim}`), onHead: (head) => seen.push(`late head ${head}`), onData: () => {}, onEnd: () => {} });
    flight.publishHead('200');
    flight.publishInterim('103 after the head');
    flight.finish('done');
    assert.deepEqual(seen, ['early 103', 'early head 200', 'late head 200']);
  });

  it('streams chunks as they arrive and replays earlier ones to late joiners', () => {
    const table = new FlightTable<string>({ waitTimeoutMs: 1000 });
    const { flight } = table.acquire('/a');
    const early = recorder();
    flight.subscribe(early.listener);
    flight.publishHead('200');
    flight.publishChunk(Buffer.from('one'));
    assert.deepEqual(early.seen, { head: '200', data: ['one'] }, 'first chunk delivered before the body ends');
    const late = recorder();
    flight.subscribe(late.listener);
    flight.publishChunk(Buffer.from('two'));
    flight.finish('done');
    assert.deepEqual(early.seen, { head: '200', data: ['one', 'two'], outcome: 'done' });
    assert.deepEqual(late.seen, { head: '200', data: ['one', 'two'], outcome: 'done' });
  });

  it('a transient error reaches every reader, before or after the head', () => {
    const table = new FlightTable<string>({ waitTimeoutMs: 1000 });
    const { flight } = table.acquire('/a');
    const reader = recorder();
    flight.subscribe(reader.listener);
    flight.finish('transient-error', new Error('origin down'));
    assert.equal(reader.seen.outcome, 'transient-error');
    assert.equal(flight.error?.message, 'origin down');
  });

  it('a reader waiting too long for the head gets wait-timeout; the flight goes on', async () => {
    const table = new FlightTable<string>({ waitTimeoutMs: 20 });
    const { flight } = table.acquire('/a');
    const reader = recorder();
    flight.subscribe(reader.listener);
    await sleep(40);
    assert.equal(reader.seen.outcome, 'wait-timeout');
    assert.equal(table.has('/a'), true);
    const starter = recorder();
    flight.subscribe(starter.listener, { waitLimited: false });
    await sleep(40);
    assert.equal(starter.seen.outcome, undefined, 'the request that started the flight is not wait-limited');
    const patient = recorder();
    flight.subscribe(patient.listener);
    flight.publishHead('200');
    await sleep(40);
    assert.equal(patient.seen.outcome, undefined, 'the head cancels the wait timer');
    flight.finish('gave-up');
    assert.equal(patient.seen.outcome, 'gave-up');
  });

  it('closing to new readers keeps current readers streaming and lets the next request start afresh', () => {
    const table = new FlightTable<string>({ waitTimeoutMs: 1000 });
    const { flight } = table.acquire('/big');
    const reader = recorder();
    flight.subscribe(reader.listener);
    flight.publishHead('200');
    flight.closeToNewReaders();
    assert.equal(table.acquire('/big').writer, true);
    flight.publishChunk(Buffer.from('x'));
    flight.finish('gave-up');
    assert.deepEqual(reader.seen, { head: '200', data: ['x'], outcome: 'gave-up' });
  });

  it('purging matching flights marks them, lets their readers finish and new requests start afresh', () => {
    const table = new FlightTable<string>({ waitTimeoutMs: 1000 });
    const a = table.acquire('/vod/x/a.ts').flight;
    const b = table.acquire('/vod/x/b.ts').flight;
    const other = table.acquire('/vod/y/c.ts').flight;
    const reader = recorder();
    a.subscribe(reader.listener);
    a.publishHead('head');
    assert.equal(table.purgeMatching((key) => key.startsWith('/vod/x/')), 2);
    assert.deepEqual([a.purged, b.purged, other.purged], [true, true, false]);
    assert.equal(table.acquire('/vod/x/a.ts').writer, true, 'a request after the purge fetches again');
    assert.equal(table.acquire('/vod/y/c.ts').flight, other);
    a.publishChunk(Buffer.from('body'));
    a.finish('gave-up');
    assert.deepEqual(reader.seen, { head: 'head', data: ['body'], outcome: 'gave-up' });
  });

  it('a restart ends the readers that answered, keeps the ones that have not and lets new ones join the fetch again', async () => {
    const table = new FlightTable<string>({ waitTimeoutMs: 50 });
    const { flight } = table.acquire('/a');
    const answered = recorder();
    const holding = recorder();
    let restarts = 0;
    flight.subscribe(answered.listener, { waitLimited: false });
    flight.subscribe({ ...holding.listener, onRestart: () => ++restarts > 0 });
    flight.publishHead('200 bad');
    flight.publishChunk(Buffer.from('bad'));
    flight.restart(new Error('etag-mismatch'));
    assert.equal(answered.seen.outcome, 'transient-error', 'a reader without onRestart cannot take back what it sent');
    assert.equal(holding.seen.outcome, undefined);
    assert.equal(restarts, 1);
    assert.equal(table.get('/a'), flight, 'still the key\'s flight: new requests join the fetch again');
    const late = recorder();
    flight.subscribe(late.listener);
    flight.publishHead('200 good');
    flight.publishChunk(Buffer.from('good'));
    flight.finish('done');
    assert.deepEqual(holding.seen, { head: '200 good', data: ['bad', 'good'], outcome: 'done' });
    assert.deepEqual(late.seen, { head: '200 good', data: ['good'], outcome: 'done' }, 'nothing of the withdrawn body is replayed');
    assert.equal(flight.bytes, 4);
    // A reader that stays waits for the new head within the wait bound again.
    const again = table.acquire('/b').flight;
    const waiting = recorder();
    again.subscribe({ ...waiting.listener, onRestart: () => true });
    again.publishHead('200 bad');
    again.restart(new Error('etag-mismatch'));
    await sleep(120);
    assert.equal(waiting.seen.outcome, 'wait-timeout');
    assert.throws(() => again.restart(new Error('twice')), /only a joinable streaming flight can restart/);
  });

  it('a cancelled reader hears nothing more', () => {
    const table = new FlightTable<string>({ waitTimeoutMs: 1000 });
    const { flight } = table.acquire('/a');
    const reader = recorder();
    const subscription = flight.subscribe(reader.listener);
    flight.publishHead('200');
    subscription.cancel();
    flight.publishChunk(Buffer.from('x'));
    flight.finish('done');
    assert.deepEqual(reader.seen, { head: '200', data: [] });
  });
});

describe('flight table: a failing reader', () => {
  it('is dropped and reported; the other readers and the writer carry on', () => {
    const reported: string[] = [];
    const table = new FlightTable<string>({ waitTimeoutMs: 1000, onListenerError: (error, key) => reported.push(`${key}: ${(error as Error).message}`) });
    const { flight } = table.acquire('/a');
    flight.subscribe({ onHead: () => { throw new Error('boom'); }, onData: () => {}, onEnd: () => {} });
    const healthy = recorder();
    flight.subscribe(healthy.listener);
    flight.publishHead('200');
    flight.publishChunk(Buffer.from('x'));
    flight.finish('done');
    assert.deepEqual(reported, ['/a: boom']);
    assert.deepEqual(healthy.seen, { head: '200', data: ['x'], outcome: 'done' });
  });
});
