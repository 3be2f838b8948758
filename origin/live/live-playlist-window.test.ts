import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  appendPart, appendSegment, effectiveTargetDuration, emptyWindow, evictionGraceMs, nextMsn, renderLivePlaylist, renditionReportOf, restoreWindow, type LivePlaylistWindow,
} from './live-playlist-window.js';

const T0 = Date.UTC(2026, 11, 3, 10, 0, 0);

function fill(window: LivePlaylistWindow, count: number, discontinuityAt: readonly number[] = []): LivePlaylistWindow {
  for (let i = 0; i < count; i++) {
    const msn = nextMsn(window);
    window = appendSegment(window, { durationMs: 2000, programDateTimeMs: T0 + msn * 2000, discontinuity: discontinuityAt.includes(msn) }).window;
  }
  return window;
}

it('slides: the newest `size` segments stay, the oldest are handed back as evicted, numbers only grow', () => {
  let window = emptyWindow(2, 3);
  const evicted: number[] = [];
  for (let i = 0; i < 5; i++) {
    const result = appendSegment(window, { durationMs: 2000, programDateTimeMs: T0 + i * 2000, discontinuity: false });
    evicted.push(...result.evicted.map((segment) => segment.msn));
    window = result.window;
  }
  assert.deepEqual(window.segments.map((segment) => [segment.msn, segment.uri]), [[2, 'seg-2.ts'], [3, 'seg-3.ts'], [4, 'seg-4.ts']]);
  assert.equal(window.mediaSequence, 2);
  assert.deepEqual(evicted, [0, 1]);
  assert.equal(nextMsn(window), 5);
});

it('renders RFC 8216 live playlists: media sequence, program date-times, durations, no ENDLIST', () => {
  const text = renderLivePlaylist(fill(emptyWindow(2, 3), 4));
  assert.equal(
    text,
    [
      '#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:1', '#EXT-X-DISCONTINUITY-SEQUENCE:0', '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-PROGRAM-DATE-TIME:2026-12-03T10:00:02.000Z', '#EXTINF:2.000,', 'seg-1.ts',
      '#EXT-X-PROGRAM-DATE-TIME:2026-12-03T10:00:04.000Z', '#EXTINF:2.000,', 'seg-2.ts',
      '#EXT-X-PROGRAM-DATE-TIME:2026-12-03T10:00:06.000Z', '#EXTINF:2.000,', 'seg-3.ts',
      '',
    ].join('\n'),
  );
});

it('counts a discontinuity in EXT-X-DISCONTINUITY-SEQUENCE only once its segment has slid out (RFC 8216 §6.2.2)', () => {
  let window = fill(emptyWindow(2, 3), 3, [1]);
  assert.equal(window.discontinuitySequence, 0);
  assert.match(renderLivePlaylist(window), /seg-0\.ts\n#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:[^\n]+\n#EXTINF:2\.000,\nseg-1\.ts/);
  window = fill(window, 1);
  assert.equal(window.discontinuitySequence, 0, 'seg-1 (the discontinuity) is still listed');
  window = fill(window, 1);
  assert.equal(window.discontinuitySequence, 1);
  assert.doesNotMatch(renderLivePlaylist(window), /#EXT-X-DISCONTINUITY\n/);
});

it('raises the target duration to fit a long segment, and keeps evicted segments for a playlist plus a segment', () => {
  let window = fill(emptyWindow(2, 3), 2);
  window = appendSegment(window, { durationMs: 3600, programDateTimeMs: T0 + 4000, discontinuity: false }).window;
  assert.equal(effectiveTargetDuration(window), 4);
  assert.match(renderLivePlaylist(window), /#EXT-X-TARGETDURATION:4\n/);
  assert.equal(evictionGraceMs(window), 2000 + 2000 + 3600 + 4000);
});

it('restores a window from its own playlist, resized, and refuses playlists it did not write', () => {
  const written = fill(emptyWindow(2, 5), 7, [4]);
  const text = renderLivePlaylist(written);
  assert.deepEqual(restoreWindow(text, 2, 5), written);
  const smaller = restoreWindow(text, 2, 2);
  assert.deepEqual(smaller.segments.map((segment) => segment.msn), [5, 6]);
  assert.equal(smaller.discontinuitySequence, 1, 'seg-4 carried a discontinuity and is no longer listed');
  assert.equal(nextMsn(smaller), 7);
  assert.throws(() => restoreWindow('garbage', 2, 3), /not an HLS playlist/);
  assert.throws(() => restoreWindow('#EXTM3U\n#EXT-X-TARGETDURATION:2\n', 2, 3), /MEDIA-SEQUENCE/);
  assert.throws(() => restoreWindow('#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:3\n#EXTINF:2,\nseg-3.ts\n', 2, 3), /program date-time/);
  assert.throws(() => restoreWindow(text.replace('seg-5.ts', 'seg-9.ts'), 2, 3), /is not seg-5\.ts/);
});

it('validates what it is given', () => {
  assert.throws(() => emptyWindow(0, 3), /target duration/);
  assert.throws(() => emptyWindow(2, 0), /size/);
  assert.throws(() => appendSegment(emptyWindow(2, 3), { durationMs: 0, programDateTimeMs: T0, discontinuity: false }), /bad segment duration/);
});

/** Low-Latency: `segments` segments of 4 parts of 500 ms (a 2 s target), then `extra` parts of the next. */
function fillParts(segments: number, extra: number, size = 10): LivePlaylistWindow {
  let window = emptyWindow(2, size, 0, 500);
  for (let i = 0; i < segments * 4 + extra; i++) {
    window = appendPart(window, { durationMs: 500, independent: i % 4 === 0, startsSegment: i % 4 === 0, programDateTimeMs: T0 + Math.floor(i / 4) * 2000, discontinuity: false }).window;
  }
  return window;
}

it('Low-Latency: parts make up segments, listed for the last three target durations and the segment in progress, with a preload hint', () => {
  const window = fillParts(5, 2);
  assert.deepEqual(window.segments.map((segment) => segment.uri), ['seg-0.m4s', 'seg-1.m4s', 'seg-2.m4s', 'seg-3.m4s', 'seg-4.m4s']);
  assert.deepEqual(window.segments[4]!.parts.map((part) => [part.uri, part.durationMs, part.independent]), [
    ['seg-4.0.m4s', 500, true], ['seg-4.1.m4s', 500, false], ['seg-4.2.m4s', 500, false], ['seg-4.3.m4s', 500, false],
  ]);
  const text = renderLivePlaylist(window);
  assert.match(text, /^#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1\.500,CAN-SKIP-UNTIL=12\.000\n#EXT-X-PART-INF:PART-TARGET=0\.500\n#EXT-X-MEDIA-SEQUENCE:0\n/);
  assert.match(text, /#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI="init\.mp4"\n#EXT-X-PROGRAM-DATE-TIME:2026-12-03T10:00:00\.000Z\n#EXTINF:2\.000,\nseg-0\.m4s\n/);
  // 1 s in progress: parts are listed for the segments ending within 6 s of the edge (seg-2 ends 5 s before it).
  assert.deepEqual([...text.matchAll(/URI="(seg-\d+)\.0\.m4s",INDEPENDENT=YES/g)].map((match) => match[1]), ['seg-2', 'seg-3', 'seg-4', 'seg-5']);
  assert.match(text, /seg-4\.m4s\n#EXT-X-PROGRAM-DATE-TIME:2026-12-03T10:00:10\.000Z\n#EXT-X-PART:DURATION=0\.500,URI="seg-5\.0\.m4s",INDEPENDENT=YES\n#EXT-X-PART:DURATION=0\.500,URI="seg-5\.1\.m4s"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-5\.2\.m4s"\n$/);
  assert.match(renderLivePlaylist(fillParts(2, 0)), /URI="seg-1\.3\.m4s"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-2\.0\.m4s"\n$/, 'a full segment in progress: the next part starts the next one');
  assert.match(renderLivePlaylist(emptyWindow(2, 3, 7, 500)), /#EXT-X-MAP:URI="init\.mp4"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-7\.0\.m4s"\n$/, 'nothing yet: the first part is hinted');
});

it('Low-Latency: evicting a segment hands back its parts; restoring keeps listed parts and drops the unfinished segment', () => {
  const next = (window: LivePlaylistWindow, startsSegment: boolean): ReturnType<typeof appendPart> =>
    appendPart(window, { durationMs: 500, independent: startsSegment, startsSegment, programDateTimeMs: T0 + nextMsn(window) * 2000, discontinuity: false });
  const closing = next(fillParts(3, 0, 3), true);
  assert.equal(closing.closed?.uri, 'seg-2.m4s');
  assert.equal(closing.part.uri, 'seg-3.0.m4s');
  let window = closing.window;
  for (let i = 0; i < 3; i++) window = next(window, false).window;
  assert.deepEqual(next(window, true).evicted.map((segment) => [segment.uri, segment.parts.length]), [['seg-0.m4s', 4]]);

  const restored = restoreWindow(renderLivePlaylist(fillParts(3, 2)), 2, 10, 500);
  assert.deepEqual(restored.segments, fillParts(3, 1).segments);
  assert.equal(restored.lowLatency?.inProgress, undefined);
  assert.equal(nextMsn(restored), 3);
  assert.throws(() => restoreWindow(renderLivePlaylist(fillParts(3, 0)), 2, 10), /not a plain live playlist/);
  assert.throws(() => restoreWindow(renderLivePlaylist(fill(emptyWindow(2, 3), 2)), 2, 10, 500), /not a Low-Latency live playlist/);
  assert.throws(() => restoreWindow(renderLivePlaylist(fillParts(3, 0)).replace('seg-1.2.m4s', 'seg-1.7.m4s'), 2, 10, 500), /is not one for seg-1\.2\.m4s/);
});

it('Low-Latency: validates parts and part targets', () => {
  const part = { durationMs: 500, independent: true, startsSegment: true, programDateTimeMs: T0, discontinuity: false };
  assert.throws(() => emptyWindow(2, 3, 0, 2500), /part target/);
  assert.throws(() => appendPart(emptyWindow(2, 3), part), /Low-Latency window/);
  assert.throws(() => appendPart(emptyWindow(2, 3, 0, 500), { ...part, independent: false, startsSegment: false }), /independent part/);
  assert.throws(() => appendPart(emptyWindow(2, 3, 0, 500), { ...part, durationMs: 0 }), /bad part duration/);
});

it('Low-Latency: rendition reports name where the other renditions are, the segment in progress included', () => {
  const other = fillParts(3, 2);
  assert.deepEqual(renditionReportOf('../480p/index.m3u8', other), { uri: '../480p/index.m3u8', lastMsn: 3, lastPart: 1 });
  assert.deepEqual(renditionReportOf('x', restoreWindow(renderLivePlaylist(other), 2, 10, 500)), { uri: 'x', lastMsn: 2, lastPart: 3 }, 'nothing in progress: the last segment');
  assert.equal(renditionReportOf('x', emptyWindow(2, 3, 0, 500)), undefined);
  const text = renderLivePlaylist(fillParts(3, 1), [renditionReportOf('../480p/index.m3u8', other)!]);
  assert.match(text, /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-3\.1\.m4s"\n#EXT-X-RENDITION-REPORT:URI="\.\.\/480p\/index\.m3u8",LAST-MSN=3,LAST-PART=1\n$/);
});
