import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ResponseHeaders } from './freshness.js';
import { invalidatedTargets, invalidatesStored } from './invalidation.js';

describe('RFC 9111 §4.4: what an unsafe request invalidates', () => {
  const statuses: [number, boolean][] = [[200, true], [201, true], [204, true], [303, true], [308, true], [304, true], [400, false], [404, false], [500, false], [100, false]];
  for (const [status, invalidates] of statuses) it(`status ${status}: ${invalidates ? 'invalidates' : 'does not'}`, () => assert.equal(invalidatesStored(status), invalidates));

  const request = new URL('http://edge.example/vod/a/index.m3u8?x=1');
  const cases: [string, ResponseHeaders, string[]][] = [
    ['the target URI itself', {}, ['/vod/a/index.m3u8?x=1']],
    ['a relative Location', { location: 'b/seg.ts' }, ['/vod/a/index.m3u8?x=1', '/vod/a/b/seg.ts']],
    ['an absolute same-origin Content-Location', { 'content-location': 'http://edge.example/vod/a/v2.m3u8' }, ['/vod/a/index.m3u8?x=1', '/vod/a/v2.m3u8']],
    ['another host is never invalidated', { location: 'http://other.example/vod/a/index.m3u8' }, ['/vod/a/index.m3u8?x=1']],
    ['another scheme is another origin', { location: 'https://edge.example/vod/b' }, ['/vod/a/index.m3u8?x=1']],
    ['both, without repeating a target', { location: '/vod/c', 'content-location': '/vod/c' }, ['/vod/a/index.m3u8?x=1', '/vod/c']],
    ['an unparsable Location is ignored', { location: 'http://[bad' }, ['/vod/a/index.m3u8?x=1']],
  ];
  for (const [name, headers, expected] of cases) it(name, () => assert.deepEqual(invalidatedTargets(request, headers), expected));
});
