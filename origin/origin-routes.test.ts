import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyRoute } from './origin-routes.js';

test('routes are classified from the path alone (metric and log labels)', () => {
  const cases: [string, string][] = [
    ['healthz', 'health'],
    ['readyz', 'health'],
    ['metrics', 'metrics'],
    ['catalog.json', 'catalog'],
    ['vod/demo-ts/master.m3u8', 'vod-playlist'],
    ['vod/demo-ts/240p/index.m3u8', 'vod-playlist'],
    ['vod/demo-ts/240p/seg-00000.ts', 'vod-segment'],
    ['vod/demo-fmp4/240p/init.mp4', 'vod-segment'],
    ['live/channel-1/master.m3u8', 'live-playlist'],
    ['live/channel-1/240p/index.m3u8', 'live-playlist'],
    ['live/channel-1/240p/seg-42.ts', 'live-segment'],
    ['', 'not-found'],
    ['vod', 'not-found'],
    ['vod/demo-ts', 'not-found'],
    ['healthz/x', 'not-found'],
    ['admin/purge', 'not-found'],
  ];
  for (const [path, kind] of cases) assert.equal(classifyRoute(path ? path.split('/') : []), kind, path);
});
