import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withQueryOnChildUris, withQueryParams } from './child-uri-query.js';

const TOKEN = 'st=abc&exp=1&pfx=%2Fvod%2Fa%2F&kid=k1';

describe('withQueryParams', () => {
  const cases: [string, string][] = [
    ['seg-1.ts', `seg-1.ts?${TOKEN}`],
    ['720p/index.m3u8', `720p/index.m3u8?${TOKEN}`],
    ['seg.ts?x=1', `seg.ts?x=1&${TOKEN}`],
    ['seg.ts?st=old&x=1', `seg.ts?x=1&${TOKEN}`],
    ['seg.ts#t=1', `seg.ts?${TOKEN}#t=1`],
    ['http://edge:8081/vod/a/seg.ts', `http://edge:8081/vod/a/seg.ts?${TOKEN}`],
    ['data:text/plain;base64,AAAA', 'data:text/plain;base64,AAAA'],
    ['skd://key-id', 'skd://key-id'],
  ];
  for (const [uri, expected] of cases) it(uri, () => assert.equal(withQueryParams(uri, TOKEN), expected));
  it('is idempotent', () => assert.equal(withQueryParams(withQueryParams('a.ts', TOKEN), TOKEN), `a.ts?${TOKEN}`));
});

describe('withQueryOnChildUris', () => {
  it('carries the token into every URI of a media playlist, tags included', () => {
    const playlist = [
      '#EXTM3U',
      '#EXT-X-VERSION:9',
      '#EXT-X-TARGETDURATION:2',
      '#EXT-X-MAP:URI="init.mp4",BYTERANGE="720@0"',
      '#EXT-X-KEY:METHOD=AES-128,URI="key.bin",IV=0x1',
      '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://k",KEYFORMAT="com.apple.streamingkeydelivery"',
      '#EXTINF:2.000,',
      'seg-0.m4s',
      '#EXT-X-PART:DURATION=0.5,URI="seg-1.0.m4s"',
      '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-1.1.m4s"',
      '#EXT-X-RENDITION-REPORT:URI="../480p/index.m3u8",LAST-MSN=1',
      '# a comment',
      '',
    ].join('\r\n');
    const out = withQueryOnChildUris(playlist, TOKEN).split('\r\n');
    assert.deepEqual(out, [
      '#EXTM3U',
      '#EXT-X-VERSION:9',
      '#EXT-X-TARGETDURATION:2',
      `#EXT-X-MAP:URI="init.mp4?${TOKEN}",BYTERANGE="720@0"`,
      `#EXT-X-KEY:METHOD=AES-128,URI="key.bin?${TOKEN}",IV=0x1`,
      '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://k",KEYFORMAT="com.apple.streamingkeydelivery"',
      '#EXTINF:2.000,',
      `seg-0.m4s?${TOKEN}`,
      `#EXT-X-PART:DURATION=0.5,URI="seg-1.0.m4s?${TOKEN}"`,
      `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-1.1.m4s?${TOKEN}"`,
      `#EXT-X-RENDITION-REPORT:URI="../480p/index.m3u8?${TOKEN}",LAST-MSN=1`,
      '# a comment',
      '',
    ]);
  });
  it('carries it into variants, renditions and I-frame playlists of a master playlist', () => {
    const master = [
      '#EXTM3U',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",URI="audio/en/index.m3u8"',
      '#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="cc1",INSTREAM-ID="CC1"',
      '#EXT-X-STREAM-INF:BANDWIDTH=800000,AUDIO="aud"',
      '480p/index.m3u8',
      '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=100000,URI="480p/iframes.m3u8"',
    ].join('\n');
    assert.equal(
      withQueryOnChildUris(master, TOKEN),
      [
        '#EXTM3U',
        `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",URI="audio/en/index.m3u8?${TOKEN}"`,
        '#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="cc1",INSTREAM-ID="CC1"',
        '#EXT-X-STREAM-INF:BANDWIDTH=800000,AUDIO="aud"',
        `480p/index.m3u8?${TOKEN}`,
        `#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=100000,URI="480p/iframes.m3u8?${TOKEN}"`,
      ].join('\n'),
    );
  });
  it('leaves a playlist alone without a query', () => assert.equal(withQueryOnChildUris('#EXTM3U\na.ts\n', ''), '#EXTM3U\na.ts\n'));
});
