import assert from 'node:assert/strict';
import { it } from 'node:test';
import { liveFreshness, STALL_TARGET_DURATIONS, targetDurationOf } from './live-stall.js';

const playlist = (target: number, extra = ''): string => `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:${target}\n#EXT-X-MEDIA-SEQUENCE:7\n#EXTINF:2.000,\nseg-7.ts\n${extra}`;

it('reads the target duration, and only a well-formed one', () => {
  assert.equal(targetDurationOf(playlist(4)), 4);
  assert.equal(targetDurationOf('#EXTM3U\n#EXT-X-TARGETDURATION:0\n'), undefined);
  assert.equal(targetDurationOf('#EXTM3U\n#EXT-X-TARGETDURATION:two\n'), undefined);
  assert.equal(targetDurationOf('#EXTM3U\n'), undefined);
});

it(`calls a playlist stalled once it is older than ${STALL_TARGET_DURATIONS} target durations, from the clock it is given`, () => {
  const written = 1_000_000;
  assert.deepEqual(liveFreshness(playlist(2), written, written), { stalled: false });
  assert.deepEqual(liveFreshness(playlist(2), written, written + 6000), { stalled: false }, 'exactly three target durations is still fresh');
  const stalled = liveFreshness(playlist(2), written, written + 6001);
  assert.equal(stalled.stalled, true);
  assert.ok(stalled.stalled && stalled.retryAfterSeconds === 2 && /stalled: playlist not updated for 6 s \(target duration 2 s\)/.test(stalled.reason), JSON.stringify(stalled));
  assert.deepEqual(liveFreshness(playlist(6), written, written + 17_000), { stalled: false }, 'the threshold scales with the target duration');
  assert.equal(liveFreshness(playlist(6), written, written + 18_001).stalled, true);
});

it('never calls a finished stream stalled, and judges a playlist without a target by the fallback', () => {
  assert.deepEqual(liveFreshness(playlist(2, '#EXT-X-ENDLIST\n'), 0, 3_600_000), { stalled: false });
  assert.equal(liveFreshness('#EXTM3U\n', 0, 7000, 2).stalled, true);
  assert.equal(liveFreshness('#EXTM3U\n', 0, 7000, 3).stalled, false);
});
