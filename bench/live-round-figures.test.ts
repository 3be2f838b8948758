import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeReasons, liveRoundFigures, longestPublicationGap, splitPollers, type PollerWorkerRecord } from './live-round-figures.js';

const PART_MS = 334;
const published = new Map([
  ['seg-1.0.m4s', 10_000],
  ['seg-1.1.m4s', 10_334],
  ['seg-1.2.m4s', 10_668],
]);
const worker = (record: Partial<PollerWorkerRecord>): PollerWorkerRecord => ({ deliveries: [], reloads: [], failures: [], loopDelayP99Ms: 5, connectionsOpened: 1, thread: { runMs: 100, waitMs: 10 }, ...record });

describe('bench:live round figures', () => {
  it('measures delivery from the publisher\'s time of each part, over every worker, sorted', () => {
    const figures = liveRoundFigures(
      published,
      [worker({ deliveries: [['seg-1.1.m4s', 10_400], ['seg-1.0.m4s', 10_020]] }), worker({ deliveries: [['seg-1.2.m4s', 10_700]] })],
      PART_MS,
    );
    assert.deepEqual(figures.latencies, [20, 32, 66]);
    assert.equal(figures.failures, 0);
    assert.equal(figures.clientBehind, undefined);
  });

  it('counts a delivered part the publisher never published as a failure, not a latency', () => {
    const figures = liveRoundFigures(published, [worker({ deliveries: [['seg-9.0.m4s', 10_000]] })], PART_MS);
    assert.deepEqual(figures.latencies, []);
    assert.equal(figures.failures, 1);
    assert.deepEqual([...figures.reasons], [['delivered a part the bench never published', 1]]);
  });

  it('takes a reload issued before its part was published as on time, one issued after it as late by the difference', () => {
    const figures = liveRoundFigures(
      published,
      [worker({ reloads: [['seg-1.1.m4s', 10_100], ['seg-1.2.m4s', 10_900], ['seg-2.0.m4s', 11_000]] })],
      PART_MS,
    );
    assert.deepEqual(figures.issueLags, [0, 0, 232]);
    assert.equal(figures.lateReloadShare, 1 / 3);
    assert.equal(figures.clientBehind, undefined);
  });

  it('says the client fell behind when a worker\'s event loop stalled, naming the figure', () => {
    const figures = liveRoundFigures(
      published,
      [worker({ loopDelayP99Ms: 12, thread: { runMs: 900, waitMs: 4_000 } }), worker({ loopDelayP99Ms: 140, thread: { runMs: 1_100, waitMs: 5_500 } })],
      PART_MS,
    );
    assert.equal(figures.loopDelayP99Ms, 140);
    assert.deepEqual(figures.clientThreads, { runMs: 2_000, waitMs: 9_500 });
    // With how long the client's threads ran and waited for a CPU: lacking speed and lacking a CPU read apart.
    assert.equal(figures.clientBehind, 'client event-loop delay p99 140.0 ms > 83.5 ms; its threads ran 2.0 s and waited 9.5 s for a CPU');
  });

  it('says the client fell behind when the median reload asked for a part published over a part interval earlier', () => {
    const figures = liveRoundFigures(published, [worker({ reloads: [['seg-1.0.m4s', 10_500], ['seg-1.1.m4s', 10_800], ['seg-1.2.m4s', 10_700]] })], PART_MS);
    assert.deepEqual(figures.issueLags, [32, 466, 500]);
    assert.match(figures.clientBehind ?? '', /median reload issued 466 ms after/);
  });

  it('adds up failure reasons over workers and names the part most pollers failed on, timed from its publication', () => {
    const figures = liveRoundFigures(
      published,
      [
        worker({ failures: [['playlist 503 busy', 'seg-1.2.m4s', 10_700], ['client timeout', '', 10_100]] }),
        worker({ failures: [['playlist 503 busy', 'seg-1.2.m4s', 10_690], ['part 404 not found', 'seg-1.1.m4s', 10_400]] }),
      ],
      PART_MS,
    );
    assert.equal(figures.failures, 4);
    assert.deepEqual(figures.worstPart, { uri: 'seg-1.2.m4s', failures: 2, msAfterPublication: 22 });
    assert.equal(describeReasons(figures.reasons), 'playlist 503 busy × 2, client timeout × 1, part 404 not found × 1');
  });

  it('names no worst part when no part failed for more than one poller', () => {
    const figures = liveRoundFigures(published, [worker({ failures: [['client timeout', 'seg-1.1.m4s', 10_400]] })], PART_MS);
    assert.equal(figures.worstPart, undefined);
  });

  it('finds the longest gap between publications since a round began, counting from its start', () => {
    const times = new Map([['a', 1000], ['b', 1334], ['c', 3000], ['d', 3334]]);
    assert.equal(longestPublicationGap(times, 0), 1666);
    assert.equal(longestPublicationGap(times, 2000), 1000);
    assert.equal(longestPublicationGap(times, 3100), 234);
    assert.equal(longestPublicationGap(new Map(), 0), 0);
  });

  it('splits pollers over workers as evenly as possible, never into an empty worker', () => {
    assert.deepEqual(splitPollers(1000, 4), [250, 250, 250, 250]);
    assert.deepEqual(splitPollers(10, 4), [3, 3, 2, 2]);
    assert.deepEqual(splitPollers(2, 4), [1, 1]);
    assert.throws(() => splitPollers(0, 4), RangeError);
    assert.throws(() => splitPollers(10, 0), RangeError);
  });
});
