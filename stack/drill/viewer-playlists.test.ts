import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseRendition, PlaylistReadError, readMediaPlaylist } from './viewer-playlists.js';

const STEERED = [
  '#EXTM3U',
  '#EXT-X-CONTENT-STEERING:SERVER-URI="/steering/live/channel-1?session=abc",PATHWAY-ID="edge-2"',
  '#EXT-X-STREAM-INF:BANDWIDTH=500000,STABLE-VARIANT-ID="240p/index.m3u8",PATHWAY-ID="edge-1"',
  'http://127.0.0.1:1001/live/channel-1/240p/index.m3u8',
  '#EXT-X-STREAM-INF:BANDWIDTH=1200000,STABLE-VARIANT-ID="480p/index.m3u8",PATHWAY-ID="edge-1"',
  'http://127.0.0.1:1001/live/channel-1/480p/index.m3u8',
  '#EXT-X-STREAM-INF:BANDWIDTH=500000,STABLE-VARIANT-ID="240p/index.m3u8",PATHWAY-ID="edge-2"',
  'http://127.0.0.1:1002/live/channel-1/240p/index.m3u8',
  '#EXT-X-STREAM-INF:BANDWIDTH=1200000,STABLE-VARIANT-ID="480p/index.m3u8",PATHWAY-ID="edge-2"',
  'http://127.0.0.1:1002/live/channel-1/480p/index.m3u8',
].join('\n');

test('a steered master gives the chosen rendition on every pathway and the steering manifest to reload', () => {
  const choice = chooseRendition(STEERED, 'http://127.0.0.1:1000/live/channel-1/master.m3u8', '480p');
  assert.deepEqual([...choice.pathways], [
    ['edge-1', 'http://127.0.0.1:1001/live/channel-1/480p/index.m3u8'],
    ['edge-2', 'http://127.0.0.1:1002/live/channel-1/480p/index.m3u8'],
  ]);
  assert.deepEqual(choice.steering, { serverUri: 'http://127.0.0.1:1000/steering/live/channel-1?session=abc', pathwayId: 'edge-2' });
  // No rendition asked for: the lowest bandwidth.
  assert.equal(chooseRendition(STEERED, 'http://127.0.0.1:1000/m.m3u8', undefined).pathways.get('edge-1'), 'http://127.0.0.1:1001/live/channel-1/240p/index.m3u8');
});

test('a master without steering is one pathway, its relative URIs resolved against where it came from', () => {
  const choice = chooseRendition('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n240p/index.m3u8\n', 'http://edge:81/vod/a/master.m3u8', '240p');
  assert.deepEqual([...choice.pathways], [['.', 'http://edge:81/vod/a/240p/index.m3u8']]);
  assert.equal(choice.steering, undefined);
});

test('masters a viewer cannot play are refused with the reason', () => {
  assert.throws(() => chooseRendition('<html>', 'http://x/', undefined), PlaylistReadError);
  assert.throws(() => chooseRendition(STEERED, 'http://x/', '1080p'), /no variant "1080p" on pathway edge-1/);
  assert.throws(() => chooseRendition('#EXTM3U\n#EXTINF:2,\nseg.ts\n', 'http://x/', undefined), /a media playlist/);
  assert.throws(() => chooseRendition('#EXTM3U\n', 'http://x/', undefined), /lists no variant/);
});

test('a media playlist gives numbered segments, its target duration and whether it ended', () => {
  const playlist = readMediaPlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:41\n#EXTINF:2.000,\nseg-41.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:1.5,\nseg-42.ts\n');
  assert.equal(playlist.targetDuration, 2);
  assert.equal(playlist.ended, false);
  assert.deepEqual(playlist.segments, [{ sequence: 41, uri: 'seg-41.ts', duration: 2 }, { sequence: 42, uri: 'seg-42.ts', duration: 1.5 }]);
  assert.equal(readMediaPlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n#EXT-X-ENDLIST\n').ended, true);
  assert.throws(() => readMediaPlaylist('#EXTM3U\n#EXTINF:2,\na.ts\n'), /TARGETDURATION/);
  assert.throws(() => readMediaPlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:-3\n'), /MEDIA-SEQUENCE/);
  assert.throws(() => readMediaPlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:abc,\na.ts\n'), /EXTINF/);
});
