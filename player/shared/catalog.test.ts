import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CatalogError, masterUrlFor, parseCatalog } from './catalog.js';

const demo = { id: 'demo-ts', title: 'Demo (TS)', kind: 'vod', format: 'ts', path: '/vod/demo-ts/master.m3u8' };

describe('parseCatalog', () => {
  it('accepts the origin catalog format', () => {
    const live = { id: 'channel-1', title: 'Live', kind: 'live', format: 'ts', path: '/live/channel-1/master.m3u8' };
    assert.deepEqual(parseCatalog({ assets: [demo, live] }), [demo, live]);
  });

  it('names the bad field', () => {
    const cases: Array<[unknown, RegExp]> = [
      [null, /"assets" array/],
      [{ assets: {} }, /"assets" array/],
      [{ assets: [42] }, /#0: expected an object/],
      [{ assets: [{ ...demo, id: '' }] }, /"id" must be a non-empty string/],
      [{ assets: [{ ...demo, kind: 'podcast' }] }, /"kind" must be vod or live/],
      [{ assets: [{ ...demo, format: 'dash' }] }, /"format" must be ts or fmp4/],
      [{ assets: [demo, demo] }, /#1: duplicate id "demo-ts"/],
    ];
    for (const [json, message] of cases) assert.throws(() => parseCatalog(json), (error: unknown) => error instanceof CatalogError && message.test(error.message));
  });

  it('refuses paths that would leave the balancer or its path space', () => {
    for (const path of ['http://evil.example/x.m3u8', '//evil.example/x.m3u8', '/vod/../admin/x.m3u8', 'vod/x.m3u8', '/vod/demo/master.mp4', '/vod/a b.m3u8']) {
      assert.throws(() => parseCatalog({ assets: [{ ...demo, path }] }), /"path" must be a same-origin \.m3u8 path/, path);
    }
  });
});

describe('masterUrlFor', () => {
  const asset = parseCatalog({ assets: [demo] })[0]!;

  it('resolves on the page origin and ignores the page path', () => {
    assert.equal(masterUrlFor(asset, new URL('http://127.0.0.1:8080/some/page?asset=demo-ts')).href, 'http://127.0.0.1:8080/vod/demo-ts/master.m3u8');
  });

  it('passes the region hint through', () => {
    assert.equal(masterUrlFor(asset, new URL('http://127.0.0.1:8080/?region=eu-west')).href, 'http://127.0.0.1:8080/vod/demo-ts/master.m3u8?region=eu-west');
  });
});
