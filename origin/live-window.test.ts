import assert from 'node:assert/strict';
import { test } from 'node:test';
import { completedSegments, LIVE_EPOCH_MS, liveSegment, liveWindowAt, renderLivePlaylist, type LiveTimeline } from './live-window.js';

// A 5 s loop of three segments (the last one short, as when a duration is not a multiple of 2 s),
// counted from the Unix epoch so the arithmetic reads plainly.
const timeline: LiveTimeline = { segmentDurationsMs: [2000, 2000, 1000], epochMs: 0 };

test('segments become available only once fully produced', () => {
  assert.equal(completedSegments(timeline, 0), 0);
  assert.equal(completedSegments(timeline, 1999), 0);
  assert.equal(completedSegments(timeline, 2000), 1);
  assert.equal(completedSegments(timeline, 11_999), 6);
  assert.equal(completedSegments(timeline, 12_000), 7);
  assert.equal(liveSegment(timeline, 6, 12_000)?.sourceIndex, 0);
  assert.equal(liveSegment(timeline, 7, 11_999), undefined, 'not produced yet');
  assert.equal(liveSegment(timeline, -1, 12_000), undefined);
  assert.equal(liveSegment(timeline, 1.5, 12_000), undefined);
});

test('the window at a given clock time has the right sequence numbers, discontinuities and dates', () => {
  const window = liveWindowAt(timeline, 12_500, 4);
  assert.equal(window.mediaSequence, 3);
  assert.deepEqual(
    window.segments.map((s) => [s.msn, s.sourceIndex, s.startMs, s.durationMs, s.discontinuity]),
    [
      [3, 0, 5000, 2000, true],
      [4, 1, 7000, 2000, false],
      [5, 2, 9000, 1000, false],
      [6, 0, 10_000, 2000, true],
    ],
  );
  // The first segment still carries its own EXT-X-DISCONTINUITY, so it is not counted yet.
  assert.equal(window.discontinuitySequence, 0);
  assert.equal(window.updatedAtMs, 12_000);
  assert.equal(liveWindowAt(timeline, 14_000, 4).discontinuitySequence, 1, 'the tag of msn 3 slid out');

  const text = renderLivePlaylist(window, { targetDuration: 2, uriOf: (s) => `seg-${s.msn}.ts` });
  assert.equal(
    text,
    [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      '#EXT-X-TARGETDURATION:2',
      '#EXT-X-MEDIA-SEQUENCE:3',
      '#EXT-X-DISCONTINUITY-SEQUENCE:0',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-DISCONTINUITY',
      '#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:05.000Z',
      '#EXTINF:2.000,',
      'seg-3.ts',
      '#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:07.000Z',
      '#EXTINF:2.000,',
      'seg-4.ts',
      '#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:09.000Z',
      '#EXTINF:1.000,',
      'seg-5.ts',
      '#EXT-X-DISCONTINUITY',
      '#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:10.000Z',
      '#EXTINF:2.000,',
      'seg-6.ts',
      '',
    ].join('\n'),
  );
});

test('as the window slides, every segment keeps one discontinuity number (its loop) and its date', () => {
  const seen = new Map<number, { cc: number; startMs: number }>();
  for (let now = 20_000; now < 40_000; now += 250) {
    const window = liveWindowAt(timeline, now, 5);
    let cc = window.discontinuitySequence;
    for (const segment of window.segments) {
      if (segment.discontinuity) cc++; // what a player does on each tag (hls.js: frag.cc)
      assert.equal(cc, Math.floor(segment.msn / 3), `msn ${segment.msn} at ${now}`);
      const before = seen.get(segment.msn);
      if (before) assert.deepEqual(before, { cc, startMs: segment.startMs });
      seen.set(segment.msn, { cc, startMs: segment.startMs });
    }
    assert.ok(window.segments.at(-1)!.startMs + window.segments.at(-1)!.durationMs <= now, 'only finished segments');
  }
});

test('the window is a function of the clock, not of when a replica started', () => {
  const now = Date.parse('2026-11-22T03:00:01.234Z');
  const real: LiveTimeline = { segmentDurationsMs: Array.from({ length: 30 }, () => 2000) };
  assert.deepEqual(liveWindowAt(real, now, 6), liveWindowAt({ ...real }, now, 6));
  const window = liveWindowAt(real, now, 6);
  assert.equal(window.segments.length, 6);
  assert.equal(window.updatedAtMs, Date.parse('2026-11-22T03:00:00.000Z'));
  assert.equal(window.mediaSequence, (Date.parse('2026-11-22T03:00:00.000Z') - LIVE_EPOCH_MS) / 2000 - 6);
  assert.ok(window.discontinuitySequence < 1e6, 'counted from a recent epoch, so players see small numbers');
});

test('bad timelines and window sizes are rejected', () => {
  assert.throws(() => liveWindowAt({ segmentDurationsMs: [] }, 0, 3), /no segments/);
  assert.throws(() => liveWindowAt({ segmentDurationsMs: [0] }, 0, 3), /bad segment duration/);
  assert.throws(() => liveWindowAt(timeline, 0, 0), /window size/);
});
