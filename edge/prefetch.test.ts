import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSegmentKey, mediaPlaylistKeyFor, nextSegmentTargets } from './prefetch.js';

const playlist = ['#EXTM3U', '#EXT-X-TARGETDURATION:2', '#EXTINF:2.0,', 'seg-00000.ts', '#EXTINF:2.0,', 'seg-00001.ts', '#EXT-X-DISCONTINUITY', '#EXTINF:2.0,', '/vod/a/480p/seg-00002.ts', '#EXTINF:2.0,', 'http://origin/vod/a/480p/seg-00003.ts?x=1', '#EXT-X-ENDLIST'].join('\n');

describe('prefetch', () => {
  it('finds the next K segments in the media playlist, resolving every URI form', () => {
    assert.deepEqual(nextSegmentTargets(playlist, '/vod/a/480p/seg-00000.ts', 2), ['/vod/a/480p/seg-00001.ts', '/vod/a/480p/seg-00002.ts']);
    assert.deepEqual(nextSegmentTargets(playlist, '/vod/a/480p/seg-00002.ts', 5), ['/vod/a/480p/seg-00003.ts?x=1']);
    assert.deepEqual(nextSegmentTargets(playlist, '/vod/a/480p/seg-00003.ts', 2), []);
    assert.deepEqual(nextSegmentTargets(playlist, '/vod/a/480p/missing.ts', 2), []);
    assert.deepEqual(nextSegmentTargets(playlist, '/vod/a/480p/seg-00000.ts', 0), []);
  });
  it('knows segments and their playlist', () => {
    assert.equal(isSegmentKey('/vod/a/480p/seg-00001.m4s'), true);
    assert.equal(isSegmentKey('/vod/a/480p/init.mp4'), false);
    assert.equal(isSegmentKey('/vod/a/480p/index.m3u8'), false);
    assert.equal(mediaPlaylistKeyFor('/vod/a/480p/seg-00001.ts'), '/vod/a/480p/index.m3u8');
  });
});
