import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { M3U8Parser } from 'hls.js';
import { renderMasterPlaylist, type MediaRendition } from './master-playlist.js';

const VARIANTS = [
  { uri: '480p/index.m3u8', bandwidth: 1_300_000, averageBandwidth: 1_100_000, width: 854, height: 480, frameRate: 25, codecs: 'avc1.64001f,mp4a.40.2' },
  { uri: '240p/index.m3u8', bandwidth: 500_000, averageBandwidth: 450_000, width: 426, height: 240, frameRate: 25, codecs: 'avc1.640015,mp4a.40.2' },
];
const MEDIA: MediaRendition[] = [
  { type: 'AUDIO', groupId: 'audio', name: 'English', language: 'en', isDefault: true, channels: 2, uri: 'audio-1/index.m3u8' },
  { type: 'AUDIO', groupId: 'audio', name: 'French', language: 'fr', isDefault: false, channels: 2, uri: 'audio-2/index.m3u8' },
  { type: 'SUBTITLES', groupId: 'subtitles', name: 'French', language: 'fr', isDefault: false, uri: 'subtitles-1/index.m3u8' },
];
const URL_OF_MASTER = 'http://origin.test/vod/film/master.m3u8';

describe('renderMasterPlaylist, read back with the real hls.js parser', () => {
  it('without groups: variants from lowest to highest bandwidth, as before', () => {
    const text = renderMasterPlaylist(VARIANTS);
    assert.ok(!text.includes('EXT-X-MEDIA') && !text.includes('AUDIO='));
    const parsed = M3U8Parser.parseMasterPlaylist(text, URL_OF_MASTER);
    assert.deepEqual(parsed.levels.map((level) => level.height), [240, 480]);
  });

  it('with audio and subtitle groups: every variant references both, every rendition keeps language and name', () => {
    const text = renderMasterPlaylist(VARIANTS, { media: MEDIA });
    const parsed = M3U8Parser.parseMasterPlaylist(text, URL_OF_MASTER);
    assert.equal(parsed.playlistParsingError, null);
    assert.deepEqual(parsed.levels.map((level) => [level.attrs.AUDIO, level.attrs.SUBTITLES]), [['audio', 'subtitles'], ['audio', 'subtitles']]);
    const media = M3U8Parser.parseMasterPlaylistMedia(text, URL_OF_MASTER, parsed);
    assert.deepEqual(media.AUDIO!.map((track) => [track.name, track.lang, track.default, track.url]), [
      ['English', 'en', true, 'http://origin.test/vod/film/audio-1/index.m3u8'],
      ['French', 'fr', false, 'http://origin.test/vod/film/audio-2/index.m3u8'],
    ]);
    assert.deepEqual(media.SUBTITLES!.map((track) => [track.name, track.lang, track.url]), [['French', 'fr', 'http://origin.test/vod/film/subtitles-1/index.m3u8']]);
  });

  it('refuses a name that would break the attribute list', () => {
    assert.throws(() => renderMasterPlaylist(VARIANTS, { media: [{ ...MEDIA[0]!, name: 'Say "hi"' }] }), /quote/);
  });
});
