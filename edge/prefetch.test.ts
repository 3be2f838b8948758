import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CacheEntry } from './cache/cache-entry.js';
import { createPrefetchIndex, isSegmentKey, mediaPlaylistKeyFor, nextSegmentTargets } from './prefetch.js';

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
  it('the prefetch index holds one list per playlist, however many made-up segment names are asked for, and stays within its size', () => {
    const entry = (text: string): CacheEntry => ({ body: Buffer.from(text) }) as unknown as CacheEntry;
    const index = createPrefetchIndex(10);
    const vod = entry(playlist);
    const list = index.listFor('/vod/a/480p/index.m3u8', vod);
    assert.deepEqual(list.next('/vod/a/480p/seg-00000.ts', 1), ['/vod/a/480p/seg-00001.ts']);
    for (let i = 0; i < 10_000; i++) {
      assert.deepEqual(index.listFor('/vod/a/480p/index.m3u8', vod).next(`/vod/a/480p/made-up-${i}.ts`, 2), []);
    }
    assert.equal(index.playlists, 1);
    assert.equal(index.segments, 4, 'the four segments listed, nothing for the made-up names');
    assert.equal(index.listFor('/vod/a/480p/index.m3u8', vod), list, 'read once while the stored playlist stays the same');
    const newer = entry(`${playlist}\nseg-00004.ts`);
    assert.notEqual(index.listFor('/vod/a/480p/index.m3u8', newer), list, 'a newer stored playlist is read again');
    for (const rendition of ['240p', '360p', '720p']) index.listFor(`/vod/a/${rendition}/index.m3u8`, entry(playlist));
    assert.ok(index.segments <= 10, `bounded: ${index.segments} segment URIs`);
    assert.equal(index.playlists, 2, 'least recently used playlists made way');
    assert.throws(() => createPrefetchIndex(0), /maxSegments/);
  });
});
