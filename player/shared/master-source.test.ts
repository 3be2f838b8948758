import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MasterSourceError, masterUrlFromSource } from './master-source.js';

const page = new URL('http://127.0.0.1:8080/?src=x');
const signed = 'http://127.0.0.1:8080/vod/demo-ts/master.m3u8?st=abc&exp=1&pfx=%2Fvod%2Fdemo-ts%2F&kid=k1';

describe('masterUrlFromSource', () => {
  it('plays a same-origin path or an http(s) URL, keeping its token query', () => {
    assert.equal(masterUrlFromSource(signed, page).href, signed);
    assert.equal(masterUrlFromSource('/vod/demo-ts/master.m3u8?st=abc', page).href, 'http://127.0.0.1:8080/vod/demo-ts/master.m3u8?st=abc');
    assert.equal(masterUrlFromSource('https://cdn.example/vod/t/master.m3u8#frag', page).href, 'https://cdn.example/vod/t/master.m3u8');
  });

  it('refuses script, data and other schemes, credentials, mixed content and non-playlists', () => {
    const https = new URL('https://player.example/');
    const cases: [string, URL][] = [
      ['javascript:alert(1)//.m3u8', page],
      [' javascript:alert(1)', page],
      ['JaVaScRiPt:alert(1)', page],
      ['data:application/vnd.apple.mpegurl,#EXTM3U', page],
      ['blob:http://127.0.0.1:8080/x.m3u8', page],
      ['file:///etc/passwd.m3u8', page],
      ['//evil.example/x.m3u8', page],
      ['http://user:pw@cdn.example/x.m3u8', page],
      ['http://cdn.example/x.m3u8', https],
      ['/vod/demo-ts/seg.ts', page],
      ['http://cdn.example/x.m3u8\n', page],
      ['\\\\evil.example/x.m3u8', page],
      ['', page],
      [`/${'a'.repeat(5000)}.m3u8`, page],
    ];
    for (const [src, at] of cases) assert.throws(() => masterUrlFromSource(src, at), MasterSourceError, JSON.stringify(src));
  });
});
