import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCacheKeyFunction } from './cache-key.js';

describe('cache key', () => {
  const key = createCacheKeyFunction({ allowedQueryParams: ['v', 'lang'] });
  const ok: [string, string][] = [
    ['/vod/demo-ts/480p/seg-00001.ts', '/vod/demo-ts/480p/seg-00001.ts'],
    ['/vod/demo-ts/480p/seg-00001.ts?token=abc&region=eu-west', '/vod/demo-ts/480p/seg-00001.ts'],
    ['/live/channel-1/480p/index.m3u8?_HLS_msn=5&_HLS_part=1', '/live/channel-1/480p/index.m3u8'],
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
  it('validates the allow-list up front', () => {
    assert.throws(() => createCacheKeyFunction({ allowedQueryParams: ['a=b'] }), TypeError);
  });
});
