import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCacheKeyFunction } from './cache-key.js';

describe('cache key', () => {
  const key = createCacheKeyFunction({ allowedQueryParams: ['v', 'lang'] });
  const ok: [string, string][] = [
    ['/vod/demo-ts/480p/seg-00001.ts', '/vod/demo-ts/480p/seg-00001.ts'],
    ['/vod/demo-ts/480p/seg-00001.ts?token=abc&region=eu-west', '/vod/demo-ts/480p/seg-00001.ts'],
    // Low-Latency HLS delivery directives select a playlist: kept, checked, in one order.
    ['/live/channel-1/480p/index.m3u8?_HLS_msn=5&_HLS_part=1', '/live/channel-1/480p/index.m3u8?_HLS_msn=5&_HLS_part=1'],
    ['/live/c/480p/index.m3u8?_HLS_skip=YES&_HLS_part=0&token=t&_HLS_msn=12', '/live/c/480p/index.m3u8?_HLS_msn=12&_HLS_part=0&_HLS_skip=YES'],
    ['/live/c/480p/index.m3u8?_HLS_msn=007', '/live/c/480p/index.m3u8?_HLS_msn=7'],
    ['/live/c/480p/index.m3u8?_HLS_skip=v2', '/live/c/480p/index.m3u8?_HLS_skip=v2'],
    ['/live/c/480p/index.m3u8?v=2&_HLS_msn=3', '/live/c/480p/index.m3u8?v=2&_HLS_msn=3'],
    // Anything but a playlist ignores them, whatever their value.
    ['/live/c/480p/seg-4.1.m4s?_HLS_msn=x&_HLS_part=1', '/live/c/480p/seg-4.1.m4s'],
    ['/vod/a/index.m3u8?v=2&token=x', '/vod/a/index.m3u8?v=2'],
    ['/vod/a/index.m3u8?v=2&lang=en', '/vod/a/index.m3u8?lang=en&v=2'],
    ['/vod/a/index.m3u8?lang=en&v=2#frag', '/vod/a/index.m3u8?lang=en&v=2'],
    ['//vod///a/./b.ts', '/vod/a/b.ts'],
    ['/vod/%61/b.ts', '/vod/a/b.ts'],
    ['/vod/a%20b/c.ts', '/vod/a%20b/c.ts'],
    ['/', '/'],
  ];
  for (const [target, expected] of ok) {
    it(`${target} → ${expected}`, () => assert.deepEqual(key(target), { ok: true, key: expected }));
  }
  const bad: [string, number, RegExp][] = [
    ['/vod/../etc/passwd', 400, /traversal/],
    ['/vod/%2e%2e/etc/passwd', 400, /traversal/],
    ['/vod/a%2fb.ts', 400, /forbidden/],
    ['/vod/a%5cb.ts', 400, /forbidden/],
    ['/vod/a%00.ts', 400, /forbidden/],
    ['/vod/%zz.ts', 400, /percent/],
    ['http://evil.example/x', 400, /origin-form/],
    ['*', 400, /origin-form/],
    [`/${'a'.repeat(3000)}`, 414, /too long/],
    ['/live/c/480p/index.m3u8?_HLS_msn=-1', 400, /_HLS_msn must be an integer/],
    ['/live/c/480p/index.m3u8?_HLS_msn=1.5', 400, /_HLS_msn must be an integer/],
    ['/live/c/480p/index.m3u8?_HLS_msn=', 400, /_HLS_msn must be an integer/],
    ['/live/c/480p/index.m3u8?_HLS_msn=1&_HLS_part=a', 400, /_HLS_part must be an integer/],
    ['/live/c/480p/index.m3u8?_HLS_msn=9999999999999999', 400, /_HLS_msn must be an integer/],
    ['/live/c/480p/index.m3u8?_HLS_part=1', 400, /_HLS_part needs _HLS_msn/],
    ['/live/c/480p/index.m3u8?_HLS_msn=1&_HLS_msn=2', 400, /more than once/],
    ['/live/c/480p/index.m3u8?_HLS_skip=yes', 400, /_HLS_skip must be YES or v2/],
  ];
  for (const [target, status, reason] of bad) {
    it(`rejects ${target.slice(0, 40)}`, () => {
      const result = key(target);
      assert.equal(result.ok, false);
      if (!result.ok) {
        assert.equal(result.status, status);
        assert.match(result.reason, reason);
      }
    });
  }
  it('drops every query parameter by default', () => {
    assert.deepEqual(createCacheKeyFunction()('/a.ts?v=1'), { ok: true, key: '/a.ts' });
  });
  it('keeps the delivery directives by their own rule even when allow-listed', () => {
    const listed = createCacheKeyFunction({ allowedQueryParams: ['_HLS_msn'] });
    assert.deepEqual(listed('/a/index.m3u8?_HLS_msn=04'), { ok: true, key: '/a/index.m3u8?_HLS_msn=4' });
    assert.deepEqual(listed('/a/seg-1.m4s?_HLS_msn=4'), { ok: true, key: '/a/seg-1.m4s' });
  });
  it('validates the allow-list up front', () => {
    assert.throws(() => createCacheKeyFunction({ allowedQueryParams: ['a=b'] }), TypeError);
  });
});
