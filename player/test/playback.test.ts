import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startLocalStack, type LocalStack } from '../../stack/local-stack.js';
import { SHIPPED_LOCATIONS_FILE } from '../../stack/stack-topology.js';
import { spawnStreamedge } from '../../stack/streamedge-process.js';
import { parseCatalog, type CatalogAsset } from '../shared/catalog.js';
import type { QoeSnapshot } from '../shared/qoe-snapshot.js';
import { artifactPath } from './artifacts.js';
import { launchChromium } from './chromium.js';
import { fatalProblems, openPlayer } from './player-page.js';
import { copyPlayerTestCatalog, PLAYER_TEST_LIVE } from './player-test-catalog.js';
import { QUICK_STOP_ARGS } from '../../stack/test/quick-stop-fixture.js';

const WATCH_SECONDS = 6;
const REGION = 'us-east';

let stack: LocalStack;
let browser: Browser;
let catalog: CatalogAsset[];
let content: Awaited<ReturnType<typeof copyPlayerTestCatalog>> | undefined;

before(
  async () => {
    content = await copyPlayerTestCatalog();
    stack = await startLocalStack({ contentDir: content.dir, edgeCacheSize: '64MB', live: PLAYER_TEST_LIVE, extraArgs: QUICK_STOP_ARGS });
    browser = await launchChromium();
    const response = await fetch(`${stack.balancerUrl}/catalog.json`);
    assert.equal(response.status, 200, 'the balancer serves the catalog');
    catalog = parseCatalog(await response.json());
  },
  { timeout: 240_000 },
);

after(async () => {
  await browser?.close();
  await stack?.stop();
  await content?.remove();
});

function assertServedByEdges(stats: QoeSnapshot, edgeIds: readonly string[]): void {
  assert.ok(stats.servedBy, 'an X-Served-By header was read from the fragment responses');
  assert.ok(stats.edgesSeen.length > 0 && stats.edgesSeen.every((id) => edgeIds.includes(id)), `fragments came from edges ${edgeIds.join(', ')}, saw ${stats.edgesSeen.join(', ')}`);
  assert.ok(stats.fragments.loaded >= 3, `fragments loaded: ${stats.fragments.loaded}`);
  assert.equal(stats.cache.hits + stats.cache.misses, stats.fragments.loaded, 'every fragment response carried a readable Cache-Status');
}

// The titles play side by side, each in its own page (as viewers of different titles do): each
// watch is real time, so one after another they only added up.
test('every catalog asset plays through the steering front, fragments served by edges', { timeout: 180_000, concurrency: true }, async (t) => {
  const kinds = catalog.map((asset) => `${asset.kind}/${asset.format}`).sort();
  assert.deepEqual(kinds, ['live/ts', 'vod/fmp4', 'vod/ts'], 'the catalog offers VOD TS, VOD fMP4 and live');
  const edgeIds = stack.edges.map((edge) => edge.id);

  await Promise.all(catalog.map((asset) =>
    t.test(`${asset.id} (${asset.kind}, ${asset.format})`, async () => {
      const player = await openPlayer(browser, stack.balancerUrl!, { asset: asset.id, region: REGION });
      try {
        const { from, stats } = await player.play(WATCH_SECONDS);
        assert.deepEqual(fatalProblems(stats), [], 'no fatal hls.js error');
        assert.ok(stats.currentTime - from >= WATCH_SECONDS, `currentTime advanced ${(stats.currentTime - from).toFixed(2)} s`);
        assert.equal(stats.assetId, asset.id);
        assert.equal(stats.route, 'steering');
        assert.ok(stats.masterUrl?.endsWith(`${asset.path}?region=${REGION}`), `the region hint reached the master URL: ${stats.masterUrl}`);
        assertServedByEdges(stats, edgeIds);
        assert.ok(stats.pathway && edgeIds.includes(stats.pathway), `the steering pathway is an edge id: ${stats.pathway}`);
        assert.ok(stats.steeringManifestLoads >= 1, 'hls.js loaded the steering manifest');
        assert.ok(stats.frames.total > 0, 'frames were decoded');
        assert.ok(stats.level?.height, 'the level in play is known');
        assert.equal(await player.overlay('edge'), stats.servedBy, 'the overlay shows the serving edge');
        assert.deepEqual(player.problems(), []);
        await player.page.screenshot({ path: await artifactPath(`player-${asset.id}.png`) });
        t.diagnostic(`${asset.id}: startup ${stats.stalls.startupMs} ms, edge ${stats.servedBy}, ${stats.level?.height}p, stalls ${stats.stalls.count}`);
      } finally {
        await player.close();
      }
    }),
  ));
});

test('through the redirect front the page plays, and asks the balancer again when its edge dies', { timeout: 90_000 }, async (t) => {
  const redirecting = await spawnStreamedge(['balancer', '--port', '0', '--consul', stack.consulUrl, '--mode', 'redirect', '--locations', SHIPPED_LOCATIONS_FILE]);
  t.after(() => redirecting.stop());
  const live = catalog.find((candidate) => candidate.kind === 'live')!;
  const player = await openPlayer(browser, redirecting.url, { asset: live.id, region: REGION });
  try {
    const { stats } = await player.play(3);
    assert.deepEqual(fatalProblems(stats), []);
    assert.equal(stats.route, 'redirect');
    assert.equal(stats.pathway, null, 'no content steering behind a redirect');
    assertServedByEdges(stats, stack.edges.map((edge) => edge.id));
    // A live channel: the overlay shows how far behind live it plays (its segments have no parts).
    assert.ok(stats.live !== null && stats.live.latencyS > 0, `live latency ${JSON.stringify(stats.live)}`);
    assert.equal(stats.live.lowLatency, false);
    assert.match(await player.overlay('latency'), /^\d+\.\d s \/ /);
    assert.equal(await player.overlay('low-latency'), 'no');

    // Behind a redirect hls.js knows one edge only: when it dies, the page re-asks the balancer.
    const victim = stack.edges.find((edge) => edge.id === stats.servedBy)!;
    await victim.process.kill();
    const moved = await player.waitFor(`playback from an edge other than ${victim.id}`, (s) => s.servedBy !== victim.id && s.state === 'playing', 45_000);
    const resumedAt = moved.currentTime;
    const later = await player.waitFor('3 s of playback after the recovery', (s) => s.currentTime - resumedAt >= 3, 20_000);
    assert.ok(later.recoveries >= 1, 'the page reloaded the master playlist from the balancer');
    assert.equal(later.fatalError, null, 'the session recovered');
    assert.equal(later.route, 'redirect');
    t.diagnostic(`redirect front: ${victim.id} killed → ${later.servedBy} after ${later.recoveries} reload(s); stalled ${Math.round(later.stalls.totalMs - stats.stalls.totalMs)} ms`);
    assert.deepEqual(player.problems(), []);
  } finally {
    await player.close();
  }
});
