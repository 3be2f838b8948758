import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { preloadHintOf, renditionRequests } from './live-poller-requests.js';

const playlist = (tail: string): Buffer =>
  Buffer.from(`#EXTM3U\n#EXT-X-PART-INF:PART-TARGET=0.334\n#EXT-X-PART:DURATION=0.334,URI="seg-7.0.m4s",INDEPENDENT=YES\n${tail}`, 'latin1');

describe('bench:live poller requests', () => {
  it('finds the part preload hint and the msn/part to block on', () => {
    assert.deepEqual(preloadHintOf(playlist('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-7.1.m4s"\n#EXT-X-RENDITION-REPORT:URI="../480p/index.m3u8"\n')), {
      uri: 'seg-7.1.m4s',
      msn: 7,
      part: 1,
    });
  });

  it('finds no hint in a playlist without one, with a map hint only, or naming another kind of URI', () => {
    assert.equal(preloadHintOf(playlist('')), undefined);
    assert.equal(preloadHintOf(playlist('#EXT-X-PRELOAD-HINT:TYPE=MAP,URI="init.mp4"\n')), undefined);
    assert.equal(preloadHintOf(playlist('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="../other/x.m4s"\n')), undefined);
    assert.equal(preloadHintOf(playlist('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-7.1.m4s')), undefined);
  });

  it('builds complete GET heads for the playlist, the blocking reload and a part', () => {
    const requests = renditionRequests('127.0.0.1:8080', '/live/bench/240p');
    assert.equal(requests.playlist, 'GET /live/bench/240p/index.m3u8 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n');
    assert.equal(requests.reloadFor({ uri: 'seg-7.1.m4s', msn: 7, part: 1 }), 'GET /live/bench/240p/index.m3u8?_HLS_msn=7&_HLS_part=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n');
    assert.equal(requests.part('seg-7.1.m4s'), 'GET /live/bench/240p/seg-7.1.m4s HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n');
  });

  it('refuses a host or path that would not make a clean request line', () => {
    assert.throws(() => renditionRequests('a b', '/live'), TypeError);
    assert.throws(() => renditionRequests('127.0.0.1', 'live/bench'), TypeError);
    assert.throws(() => renditionRequests('127.0.0.1', '/live/bench/'), TypeError);
    assert.throws(() => renditionRequests('127.0.0.1', '/live bench'), TypeError);
  });
});
