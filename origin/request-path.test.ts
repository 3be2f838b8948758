import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRequestTarget } from './request-path.js';

test('plain catalog paths are accepted and split into names', () => {
  assert.deepEqual(parseRequestTarget('/vod/demo-ts/720p/seg-00001.ts'), { ok: true, segments: ['vod', 'demo-ts', '720p', 'seg-00001.ts'] });
  assert.deepEqual(parseRequestTarget('/vod/demo-ts/master.m3u8?token=abc&_HLS_msn=3'), { ok: true, segments: ['vod', 'demo-ts', 'master.m3u8'] });
  assert.deepEqual(parseRequestTarget('/vod/demo%2Dts/master.m3u8'), { ok: true, segments: ['vod', 'demo-ts', 'master.m3u8'] });
  assert.deepEqual(parseRequestTarget('/'), { ok: true, segments: [] });
});

test('bad request targets are refused with a status and a short reason', () => {
  const bad: [string | undefined, number, RegExp][] = [
    [undefined, 400, /missing/],
    ['vod/demo-ts/master.m3u8', 400, /absolute path/],
    ['http://evil/vod/x', 400, /absolute path/],
    ['/vod/../../etc/passwd', 400, /traversal/],
    ['/vod/demo-ts/./master.m3u8', 400, /traversal/],
    ['/vod/%2e%2e/%2e%2e/etc/passwd', 400, /traversal/],
    ['/vod/%2E%2E/secret', 400, /traversal/],
    ['/vod/.%2e/secret', 400, /traversal/],
    ['/vod/..%2f..%2fetc%2fpasswd', 400, /separator/],
    ['/vod/..%2F..%2Fetc', 400, /separator/],
    ['/vod/%252e%252e/%252e%252e/etc/passwd', 400, /double/],
    ['/vod/%25%32%65', 400, /double/],
    ['/vod\\..\\..\\etc\\passwd', 400, /backslash/],
    ['/vod/..%5c..%5cetc', 400, /separator/],
    ['/vod/demo-ts/master.m3u8%00.ts', 400, /NUL/],
    ['/vod/demo-ts/\0', 400, /NUL/],
    ['/vod/%0d%0aSet-Cookie:x', 400, /control/],
    ['/vod/%e0%a4%a', 400, /malformed/],
    ['/vod/%zz', 400, /malformed/],
    ['/vod/%', 400, /malformed/],
    ['/vod//etc/passwd', 400, /empty/],
    ['//etc/passwd', 400, /empty/],
    [`/vod/${'a'.repeat(3000)}`, 414, /URL longer/],
    [`/vod/${'a'.repeat(200)}`, 414, /segment longer/],
    [`/${'a/'.repeat(20)}x`, 414, /segments/],
    ['/vod/.hidden', 404, /not found/],
    ['/vod/demo ts/master.m3u8', 404, /not found/],
    ['/vod/d%C3%A9mo/master.m3u8', 404, /not found/],
    ['/vod/-rf', 404, /not found/],
  ];
  for (const [target, status, reason] of bad) {
    const result = parseRequestTarget(target);
    assert.equal(result.ok, false, String(target));
    if (!result.ok) {
      assert.equal(result.status, status, String(target));
      assert.match(result.reason, reason, String(target));
    }
  }
});
