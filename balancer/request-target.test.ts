import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMediaTarget } from './request-target.js';

describe('parseMediaTarget', () => {
  const good: [string, string, string, boolean, string][] = [
    ['/vod/demo-ts/master.m3u8', 'vod/demo-ts', '/vod/demo-ts/master.m3u8', true, ''],
    ['/vod/demo-fmp4/720p/seg-00001.m4s', 'vod/demo-fmp4', '/vod/demo-fmp4/720p/seg-00001.m4s', false, ''],
    ['/live/channel-1/480p/index.m3u8?_HLS_msn=5&region=eu-west', 'live/channel-1', '/live/channel-1/480p/index.m3u8', false, '_HLS_msn=5'],
    ['/vod/demo-ts/master.m3u8?token=abc', 'vod/demo-ts', '/vod/demo-ts/master.m3u8', true, 'token=abc'],
  ];
  for (const [url, assetKey, path, isMaster, query] of good) {
    it(`accepts ${url}`, () => {
      const result = parseMediaTarget(url);
      assert.ok('target' in result, JSON.stringify(result));
      assert.deepEqual([result.target.assetKey, result.target.path, result.target.isMaster, result.target.query], [assetKey, path, isMaster, query]);
    });
  }
  const bad: [string, number][] = [
    ['http://evil.example/vod/a/master.m3u8', 400],
    ['//evil.example/vod/a/master.m3u8', 400],
    ['/vod/../etc/passwd', 400],
    ['/vod/a/./master.m3u8', 400],
    ['/vod/a/%2e%2e/x', 400],
    ['/vod/a/..%2fx', 400],
    ['/vod/a\\..\\x', 400],
    ['/vod/a//master.m3u8', 400],
    ['/vod/.hidden/master.m3u8', 400],
    ['/vod/a/b/c/d/e/f.ts', 400],
    ['/vod/a', 404],
    ['/other/a/master.m3u8', 404],
    [`/vod/a/${'x'.repeat(3000)}`, 414],
  ];
  for (const [url, status] of bad) {
    it(`${status} for ${url.slice(0, 50)}`, () => {
      const result = parseMediaTarget(url);
      assert.ok('status' in result);
      assert.equal(result.status, status);
    });
  }
});
