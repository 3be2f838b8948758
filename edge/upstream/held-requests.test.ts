import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHeldRequests } from './held-requests.js';

const LL_PLAYLIST = Buffer.from('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PART-INF:PART-TARGET=0.333\n#EXT-X-PART:DURATION=0.333,URI="seg-1.0.m4s"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-1.1.m4s"\n');
const PLAIN_PLAYLIST = Buffer.from('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg-1.m4s\n');

describe('held requests', () => {
  it('holds blocking reloads, and misses in a rendition while its playlist lists parts', () => {
    const held = createHeldRequests({ holdWaitMs: 7000, maxWaiters: 10 });
    assert.equal(held.isHeld('/live/c/480p/index.m3u8?_HLS_msn=4&_HLS_part=1'), true);
    assert.equal(held.isHeld('/live/c/480p/index.m3u8?_HLS_skip=YES'), false, 'a delta update alone is not held');
    assert.equal(held.isHeld('/live/c/480p/seg-1.1.m4s'), false, 'nothing known of the rendition yet');
    held.notePlaylist('/live/c/480p/index.m3u8?_HLS_msn=1&_HLS_part=0', LL_PLAYLIST);
    assert.equal(held.isHeld('/live/c/480p/seg-1.1.m4s'), true);
    assert.equal(held.isHeld('/live/c/480p/index.m3u8'), false, 'a plain reload is answered at once');
    assert.equal(held.isHeld('/live/c/720p/seg-1.1.m4s'), false, 'another rendition');
    held.notePlaylist('/live/c/480p/index.m3u8', PLAIN_PLAYLIST);
    assert.equal(held.isHeld('/live/c/480p/seg-1.1.m4s'), false, 'no longer low-latency');
  });

  it('remembers a bounded number of renditions, the least recently seen out', () => {
    const held = createHeldRequests({ holdWaitMs: 7000, maxWaiters: 10, maxRenditions: 2 });
    for (const rendition of ['a', 'b', 'a', 'c']) held.notePlaylist(`/live/${rendition}/index.m3u8`, LL_PLAYLIST);
    assert.deepEqual(['a', 'b', 'c'].map((rendition) => held.isHeld(`/live/${rendition}/seg-1.1.m4s`)), [true, false, true]);
  });

  it('admits waiters up to the bound; each release counts once', () => {
    const held = createHeldRequests({ holdWaitMs: 7000, maxWaiters: 2 });
    const first = held.admit();
    const second = held.admit();
    assert.ok(first && second);
    assert.equal(held.admit(), undefined);
    first();
    first();
    assert.equal(held.waiters, 1);
    assert.ok(held.admit());
    const ended = held.flightStarted();
    assert.equal(held.flights, 1);
    ended();
    ended();
    assert.equal(held.flights, 0);
  });

  it('validates its options', () => {
    assert.throws(() => createHeldRequests({ holdWaitMs: 50, maxWaiters: 1 }), /holdWaitMs/);
    assert.throws(() => createHeldRequests({ holdWaitMs: 7000, maxWaiters: 0 }), /maxWaiters/);
    assert.throws(() => createHeldRequests({ holdWaitMs: 7000, maxWaiters: 1, maxRenditions: 0.5 }), /maxRenditions/);
  });
});
