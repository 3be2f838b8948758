// The operations dashboard in Chromium against the real local system (Consul, origins, a shield per
// region, three edges, the balancer): with viewer traffic on every edge, each chart gets data for
// every edge, the table and the region map show each edge's health, the tier view shows the shields,
// where each edge fills and what the shields kept from the origins, and the page keeps to its CSP. The screenshot goes to
// test-artifacts/; copy it over player/docs/dashboard.png to refresh the README's.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startLocalStack, type LocalStack } from '../../stack/local-stack.js';
import { DEMO_SHIELDS } from '../../stack/stack-topology.js';
import { CHARTS, type DashboardState } from '../shared/dashboard-data.js';
import { artifactPath } from './artifacts.js';
import { launchChromium } from './chromium.js';
import { ensurePlayerTestCatalog } from './player-test-catalog.js';
import { QUICK_STOP_ARGS } from '../../stack/test/quick-stop-fixture.js';

let stack: LocalStack;
let browser: Browser;

before(
  async () => {
    stack = await startLocalStack({ contentDir: await ensurePlayerTestCatalog(), shields: DEMO_SHIELDS, edgeCacheSize: '64MB', extraArgs: { ...QUICK_STOP_ARGS, edge: [...QUICK_STOP_ARGS.edge, '--admin-token', PURGE_TOKEN] } });
    browser = await launchChromium();
  },
  { timeout: 240_000 },
);

after(async () => {
  await browser?.close();
  await stack?.stop();
});

/** Segment paths of an asset's first rendition, read through an edge. */
async function segmentPaths(edgeUrl: string, masterPath: string): Promise<string[]> {
  const master = await (await fetch(`${edgeUrl}${masterPath}`)).text();
  const variant = master.split('\n').find((line) => line && !line.startsWith('#'))!;
  const variantUrl = new URL(variant, `${edgeUrl}${masterPath}`);
  const playlist = await (await fetch(variantUrl)).text();
  return playlist.split('\n').filter((line) => line && !line.startsWith('#')).map((line) => new URL(line, variantUrl).pathname);
}

/** A test-only purge token, so the traffic can empty the edges' caches now and then. */
const PURGE_TOKEN = 'dashboard-test-purge';

/**
 * Viewers through the balancer (sessions in both regions) and fragments straight from every edge:
 * mostly hits, and every few rounds the edges (not the shields) are purged so each keeps having
 * misses (upstream time to headers, the p99 chart, is measured on misses only), which its region's
 * shield answers.
 */
function startTraffic(segments: readonly string[], masterPath: string): () => Promise<void> {
  let running = true;
  let round = 0;
  const loop = (async () => {
    while (running) {
      const requests = [
        ...['us-east', 'eu-west'].map((region) => fetch(`${stack.balancerUrl}${masterPath}?region=${region}`).then((r) => r.text())),
        ...stack.edges.flatMap((edge) => [0, 1, 2].map((i) => fetch(`${edge.url}${segments[(round + i) % segments.length]}`).then((r) => r.arrayBuffer()))),
      ];
      await Promise.allSettled(requests);
      round++;
      if (round % 4 === 0) {
        await Promise.allSettled(
          stack.edges.map((edge) =>
            fetch(`${edge.url}/admin/purge`, { method: 'POST', headers: { authorization: `Bearer ${PURGE_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ prefix: '/vod/' }) }),
          ),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

test('the dashboard charts req/s, hit ratio, origin bytes, p99 TTFB and viewers for every edge, with health, a map and the tiers', { timeout: 120_000 }, async (t) => {
  const catalog = (await (await fetch(`${stack.balancerUrl}/catalog.json`)).json()) as { assets: { id: string; kind: string; path: string }[] };
  const vod = catalog.assets.find((asset) => asset.kind === 'vod')!;
  const segments = await segmentPaths(stack.edges[0]!.url, vod.path);
  assert.ok(segments.length >= 3, `segments: ${segments.length}`);

  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  const stopTraffic = startTraffic(segments, vod.path);
  try {
    const response = await page.goto(`${stack.balancerUrl}/dashboard`);
    assert.equal(response?.status(), 200);
    const edgeIds = stack.edges.map((edge) => edge.id).sort();

    const shieldIds = stack.shields.map((shield) => shield.id).sort();
    const everyChartHasEveryEdge = (state: DashboardState | undefined): boolean =>
      !!state && state.source === 'metrics' && CHARTS.every((chart) => edgeIds.every((id) => (state.points[chart][id] ?? 0) >= (chart === 'ttfbP99' ? 1 : 3)));
    // Every shield answered edges in the window, and every edge filled from one.
    const tiersHaveFigures = (state: DashboardState | undefined): boolean =>
      !!state?.tiers &&
      state.tiers.shields.length === shieldIds.length &&
      state.tiers.shields.every((shield) => (shield.requests ?? 0) > 0) &&
      state.tiers.edges.every((edge) => (edge.requests.shield ?? 0) > 0);
    let state: DashboardState | undefined;
    const deadline = Date.now() + 60_000;
    while (!everyChartHasEveryEdge(state) || !tiersHaveFigures(state)) {
      assert.ok(Date.now() < deadline, `charts or tiers still missing data after 60 s: ${JSON.stringify(state?.points)} ${JSON.stringify(state?.tiers)} ${state?.error ?? ''}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      state = await page.evaluate(() => (globalThis as { streamedgeDashboard?: DashboardState }).streamedgeDashboard);
    }
    state = state!;
    assert.equal(state.error, null);
    assert.deepEqual(state.edges.map((edge) => edge.id).sort(), edgeIds);
    for (const edge of state.edges) {
      assert.equal(edge.health, 'healthy', `${edge.id} is healthy`);
      assert.equal(edge.error, null, `${edge.id} was scraped`);
      assert.ok(state.latest.requests[edge.id]! > 0, `${edge.id} answers requests`);
      assert.ok(state.latest.ttfbP99[edge.id] !== undefined);
    }
    assert.ok(Object.values(state.latest.viewers).reduce<number>((sum, value) => sum + (value ?? 0), 0) >= 1, 'the balancer holds viewer sessions');

    // The tiers: each region's shield, passing, answering the edges' fills mostly from its cache.
    const tiers = state.tiers!;
    assert.deepEqual(tiers.shields.map((shield) => [shield.id, shield.region, shield.health]).sort(), stack.shields.map((shield) => [shield.id, shield.region, 'passing']).sort());
    for (const shield of tiers.shields) {
      assert.ok(shield.hitRatio !== null && shield.hitRatio > 0, `${shield.id} hit ratio ${shield.hitRatio}`);
      assert.ok(shield.originOffload !== null && shield.originOffload > 0, `${shield.id} origin offload ${shield.originOffload}`);
    }
    for (const edge of tiers.edges) {
      assert.equal(edge.fillsFrom, 'shield', `${edge.id} fills from its shield: ${JSON.stringify(edge.requests)}`);
      assert.equal(edge.requests.origin, 0, `${edge.id} asks no origin itself`);
      assert.ok((edge.bytes.shield ?? 0) > 0, `${edge.id} reads bytes from its shield`);
    }
    const { fleet } = tiers;
    assert.ok(fleet.edgeUpstream !== null && fleet.origin !== null && fleet.saved !== null, JSON.stringify(fleet));
    assert.ok(fleet.origin < fleet.edgeUpstream && fleet.saved > 0, `the origins got fewer requests than the edges sent upstream: ${JSON.stringify(fleet)}`);

    // What a person sees: one uPlot per chart with a series per edge, a table row and a map dot per edge.
    assert.equal(await page.locator('.chart .uplot').count(), CHARTS.length);
    assert.equal(await page.locator('.chart[data-chart="requests"] .u-legend .u-series').count(), edgeIds.length + 1);
    assert.deepEqual((await page.locator('#edge-table tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-edge')))).sort(), edgeIds);
    assert.deepEqual(await page.locator('#region-map circle.edge').evaluateAll((dots) => dots.map((dot) => dot.getAttribute('data-health'))), ['healthy', 'healthy', 'healthy']);
    assert.deepEqual((await page.locator('#shield-table tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-id')))).sort(), shieldIds);
    assert.deepEqual((await page.locator('#tier-table tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-id')))).sort(), edgeIds);
    assert.match(await page.locator('#fleet-saving').innerText(), /the origins got [\d.]+ req\/s: the shield tier kept \d+ %/);
    assert.deepEqual(problems, [], 'no console errors (a CSP violation would be one)');

    await page.screenshot({ path: await artifactPath('dashboard.png'), fullPage: true });
    t.diagnostic(`after ${state.polls} polls: req/s ${JSON.stringify(state.latest.requests)}, hit ratio ${JSON.stringify(state.latest.hitRatio)}`);
    const round = (value: number | null): string => (value === null ? '–' : value.toFixed(2));
    t.diagnostic(`tiers over ${tiers.seconds.toFixed(0)} s: ${tiers.shields.map((shield) => `${shield.id} ${round(shield.requests)} req/s, hit ratio ${round(shield.hitRatio)}, origin offload ${round(shield.originOffload)}`).join('; ')}`);
    t.diagnostic(`edges → shields ${tiers.edges.map((edge) => `${edge.id} ${round(edge.requests.shield)} req/s ${round(edge.bytes.shield)} B/s`).join(', ')}; fleet: edges upstream ${round(fleet.edgeUpstream)} req/s, origins ${round(fleet.origin)} req/s, saved ${round(fleet.saved)}`);
  } finally {
    await stopTraffic();
    await page.close();
  }
});
