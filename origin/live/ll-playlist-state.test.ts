import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parseDeliveryDirectives } from './ll-hls-query.js';
import { appendPart, emptyWindow, renderLivePlaylist } from './live-playlist-window.js';
import { isUpcomingPart, parsePartUri, playlistHas, readLowLatencyState, renderDeltaUpdate } from './ll-playlist-state.js';

const T0 = Date.UTC(2026, 11, 3, 10, 0, 0);

/** A playlist as the writer renders it: `segments` of 4 × 500 ms parts, then `extra` parts. */
function playlist(segments: number, extra: number, size = 20): string {
  let window = emptyWindow(2, size, 0, 500);
  for (let i = 0; i < segments * 4 + extra; i++) {
    window = appendPart(window, { durationMs: 500, independent: i % 4 === 0, startsSegment: i % 4 === 0, programDateTimeMs: T0 + Math.floor(i / 4) * 2000, discontinuity: false }).window;
  }
  return renderLivePlaylist(window);
}

it('reads the live edge of a Low-Latency playlist, and nothing from a plain one', () => {
  assert.deepEqual(readLowLatencyState(playlist(3, 2)), { targetDuration: 2, mediaSequence: 0, lastMsn: 2, inProgressParts: 2, hint: { msn: 3, part: 2 }, canSkipUntilMs: 12_000 });
  assert.deepEqual(readLowLatencyState(playlist(0, 0)), { targetDuration: 2, mediaSequence: 0, lastMsn: -1, inProgressParts: 0, hint: { msn: 0, part: 0 }, canSkipUntilMs: 12_000 });
  assert.equal(readLowLatencyState('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg-0.ts\n'), undefined);
  assert.deepEqual(parsePartUri('seg-12.3.m4s'), { msn: 12, part: 3 });
  for (const name of ['seg-12.m4s', 'seg-012.3.m4s', 'seg-1.03.m4s', 'seg-1.3.ts']) assert.equal(parsePartUri(name), undefined, name);
});

it('judges blocking requests and upcoming parts against the live edge (§6.2.5.2)', () => {
  const state = readLowLatencyState(playlist(3, 2))!;
  assert.ok(playlistHas(state, 2), 'a complete segment');
  assert.ok(playlistHas(state, 2, 9), 'a part index past a complete segment\'s last');
  assert.ok(playlistHas(state, 3, 1), 'a listed part of the segment in progress');
  assert.ok(!playlistHas(state, 3, 2), 'the hinted part');
  assert.ok(!playlistHas(state, 3), 'the segment in progress, whole');
  assert.ok(isUpcomingPart(state, 3, 2) && isUpcomingPart(state, 3, 3) && isUpcomingPart(state, 4, 0));
  assert.ok(!isUpcomingPart(state, 3, 4) && !isUpcomingPart(state, 4, 1) && !isUpcomingPart(state, 2, 0));
});

it('delta updates skip the segments ending at least CAN-SKIP-UNTIL before the end (§4.4.5.2)', () => {
  // 10 segments + 1 s: 21 s in all; segments ending by 9 s (seg-0…seg-3) may go.
  const full = playlist(10, 2);
  const delta = renderDeltaUpdate(full, readLowLatencyState(full)!)!;
  assert.match(delta, /#EXT-X-MAP:URI="init\.mp4"\n#EXT-X-SKIP:SKIPPED-SEGMENTS=4\n#EXT-X-PROGRAM-DATE-TIME:2026-12-03T10:00:08\.000Z\n#EXTINF:2\.000,\nseg-4\.m4s\n/);
  assert.doesNotMatch(delta, /seg-[0-3]\.m4s/);
  assert.equal(delta.slice(delta.indexOf('seg-4.m4s')), full.slice(full.indexOf('seg-4.m4s')), 'the rest is untouched');
  const short = playlist(6, 0);
  assert.equal(renderDeltaUpdate(short, readLowLatencyState(short)!), undefined, '12 s: nothing may be skipped');
});

it('parses delivery directives, refusing malformed ones with a reason', () => {
  const parse = (query: string): ReturnType<typeof parseDeliveryDirectives> => parseDeliveryDirectives(new URLSearchParams(query));
  assert.deepEqual(parse('_HLS_msn=12&_HLS_part=3'), { ok: true, directives: { msn: 12, part: 3, skip: false } });
  assert.deepEqual(parse('_HLS_skip=v2&other=1'), { ok: true, directives: { msn: undefined, part: undefined, skip: true } });
  assert.deepEqual(parse(''), { ok: true, directives: { msn: undefined, part: undefined, skip: false } });
  for (const [query, reason] of [
    ['_HLS_part=1', /_HLS_part needs _HLS_msn/],
    ['_HLS_msn=-1', /bad _HLS_msn/],
    ['_HLS_msn=01', /bad _HLS_msn/],
    ['_HLS_msn=1e3', /bad _HLS_msn/],
    ['_HLS_msn=9999999999999999', /bad _HLS_msn/],
    ['_HLS_msn=1&_HLS_part=x', /bad _HLS_part/],
    ['_HLS_msn=1&_HLS_msn=2', /more than once/],
    ['_HLS_skip=NO', /bad _HLS_skip/],
  ] as const) {
    const result = parse(query);
    assert.ok(!result.ok && reason.test(result.reason), `${query}: ${JSON.stringify(result)}`);
  }
});
