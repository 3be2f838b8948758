import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startLocalStack, type LocalStack, type StackEdge } from '../../stack/local-stack.js';
import { parseCatalog, type CatalogAsset } from '../shared/catalog.js';
import type { QoeSnapshot } from '../shared/qoe-snapshot.js';
import { artifactPath } from './artifacts.js';
import { launchChromium } from './chromium.js';
import { fatalProblems, openPlayer, type PlayerPage } from './player-page.js';
import { copyPlayerTestCatalog, PLAYER_TEST_LIVE } from './player-test-catalog.js';

// Edges die under a live viewer: the live window keeps the buffer short (a few segments behind the
// live edge), so every new segment has to come from a working edge in real time. The balancer's
// demotion of pathways a player reports as slow is off: a headless browser on a busy CI machine
// reports its own CPU starvation as low throughput, and only the failures under test should move it.
// A draining edge keeps serving (in Consul maintenance) for two steering TTLs: a player learns of
// the drain only at its next steering manifest reload.
const STEERING_TTL = '4s';
const DRAIN_DELAY = '8s';
const REGION = 'us-east';
const MAX_FAILOVER_STALL_MS = 4_000;
const WATCH_AFTER_FAILURE_S = 6;

let stack: LocalStack;
let browser: Browser;
let live: CatalogAsset;
let player: PlayerPage;
const measurements: Record<string, unknown> = {};
let content: Awaited<ReturnType<typeof copyPlayerTestCatalog>> | undefined;

before(
  async () => {
    content = await copyPlayerTestCatalog();
    stack = await startLocalStack({
      contentDir: content.dir,
      live: PLAYER_TEST_LIVE,
      edgeCacheSize: '64MB',
      extraArgs: {
        balancer: ['--steering-ttl', STEERING_TTL],
        edge: ['--drain-delay', DRAIN_DELAY],
      },
    });
    browser = await launchChromium();
    const catalog = parseCatalog(await (await fetch(`${stack.balancerUrl}/catalog.json`)).json());
    live = catalog.find((asset) => asset.kind === 'live')!;
    assert.ok(live, 'the catalog has a live channel');
    player = await openPlayer(browser, stack.balancerUrl!, { asset: live.id, region: REGION });
    const { stats } = await player.play(2);
    assert.equal(stats.route, 'steering');
    assert.ok(stats.servedBy, 'playing from an edge');
  },
  { timeout: 240_000 },
);

after(async () => {
  await writeFile(await artifactPath('player-resilience.json'), `${JSON.stringify(measurements, null, 2)}\n`).catch(() => undefined);
  await player?.close();
  await browser?.close();
  // The edges' drain delay is for the drain test; with no viewer left it would only hold up the teardown.
  await Promise.all(stack?.edges.map((edge) => edge.process.kill()) ?? []);
  await stack?.stop();
  await content?.remove();
});

function servingEdge(stats: QoeSnapshot): StackEdge {
  const edge = stack.edges.find((candidate) => candidate.id === stats.servedBy);
  assert.ok(edge, `the player is served by a stack edge, not ${stats.servedBy}`);
  return edge;
}

/** After `failed` stops serving: playback moves to another edge and runs on for a while. */
async function watchMoveAway(failed: StackEdge, prior: QoeSnapshot): Promise<QoeSnapshot> {
  const moved = await player.waitFor(`the player to leave ${failed.id}`, (s) => (s.servedBy !== failed.id && s.pathway !== failed.id) || s.fatalError !== null, 20_000);
  assert.deepEqual(fatalProblems(moved), []);
  const resumedAt = moved.currentTime;
  return player.waitFor(
    `${WATCH_AFTER_FAILURE_S} s of playback after leaving ${failed.id}`,
    (s) => s.currentTime - Math.max(prior.currentTime, resumedAt) >= WATCH_AFTER_FAILURE_S || s.fatalError !== null,
    WATCH_AFTER_FAILURE_S * 1000 + 15_000,
  );
}

test('SIGKILL of the serving edge: playback continues on another edge within the stall budget', { timeout: 60_000 }, async (t) => {
  const prior = await player.stats();
  const victim = servingEdge(prior);
  await victim.process.kill();

  const later = await watchMoveAway(victim, prior);
  const stallMs = later.stalls.totalMs - prior.stalls.totalMs;
  // The snapshot taken just before the kill dates it to within one publish interval (250 ms).
  const firstFromSurvivor = later.edgeChanges.find((change) => change.from === victim.id);
  const switchMs = firstFromSurvivor ? Math.round(firstFromSurvivor.atMs - prior.updatedAtMs) : null;
  measurements.sigkill = {
    killed: victim.id,
    movedTo: later.servedBy,
    stallMs,
    stalls: later.stalls.count - prior.stalls.count,
    firstFragmentFromSurvivorAfterMs: switchMs,
    bufferAheadAtKillS: prior.bufferAheadS,
    errors: later.errors.filter((error) => error.atMs > prior.updatedAtMs),
  };
  t.diagnostic(`SIGKILL ${victim.id} → ${later.servedBy}: stalled ${Math.round(stallMs)} ms in ${later.stalls.count - prior.stalls.count} stall(s); first fragment from ${later.servedBy} ${switchMs} ms after the kill (buffer then ${prior.bufferAheadS.toFixed(1)} s)`);

  assert.deepEqual(fatalProblems(later), [], 'no fatal hls.js error');
  assert.ok(later.servedBy && later.servedBy !== victim.id, `fragments now come from another edge (${later.servedBy})`);
  assert.equal(later.pathway, later.servedBy, 'hls.js moved to the surviving edge pathway');
  assert.ok(later.pathwayChanges.some((change) => change.from === victim.id), 'the pathway change was recorded');
  assert.equal(await player.overlay('edge'), later.servedBy, 'the overlay shows the new edge');
  assert.ok(stallMs <= MAX_FAILOVER_STALL_MS, `total stall ${Math.round(stallMs)} ms ≤ ${MAX_FAILOVER_STALL_MS} ms`);
  assert.deepEqual(player.problems(), []);
  await player.page.screenshot({ path: await artifactPath('player-after-failover.png') });
});

test('SIGTERM (drain) of the serving edge: not one fragment or playlist load fails', { timeout: 90_000 }, async (t) => {
  const prior = await player.stats();
  const drained = servingEdge(prior);
  const exited = drained.process.stop(30_000);

  const later = await watchMoveAway(drained, prior);
  assert.equal(await exited, 0, `${drained.id} exited cleanly after draining`);
  const failed = later.fragments.failed - prior.fragments.failed;
  const newErrors = later.errors.filter((error) => error.atMs > prior.updatedAtMs);
  const networkErrors = newErrors.filter((error) => error.type === 'networkError');
  measurements.sigterm = { drained: drained.id, movedTo: later.servedBy, failedFragmentLoads: failed, stallMs: later.stalls.totalMs - prior.stalls.totalMs, errors: newErrors };
  t.diagnostic(`SIGTERM ${drained.id} → ${later.servedBy}: ${failed} failed fragment loads, ${newErrors.length} hls.js errors`);

  assert.deepEqual(fatalProblems(later), []);
  assert.ok(later.servedBy && later.servedBy !== drained.id);
  assert.equal(failed, 0, `zero failed fragment loads; errors: ${JSON.stringify(newErrors)}`);
  assert.deepEqual(networkErrors, [], 'no playlist or other request failed either');
  assert.deepEqual(player.problems(), []);
});
