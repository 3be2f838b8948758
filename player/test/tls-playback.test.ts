import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startLocalStack, type LocalStack } from '../../stack/local-stack.js';
import { launchChromium } from './chromium.js';
import { fatalProblems, openPlayer } from './player-page.js';
import { ensurePlayerTestCatalog } from './player-test-catalog.js';
import { QUICK_STOP_ARGS } from '../../stack/test/quick-stop-fixture.js';

// The local stack on HTTPS (a CA made for the run, as `npm start -- --tls` does): Chromium trusts
// the run's server key by its SPKI pin, the one way to trust a key without installing a CA in a
// throwaway profile; certificate checks stay on, as the browser without the pin shows.

const WATCH_SECONDS = 6;

let stack: LocalStack;
let browser: Browser;
let scratch: string;

before(
  async () => {
    scratch = await mkdtemp(join(tmpdir(), 'streamedge-tls-player-'));
    stack = await startLocalStack({ contentDir: await ensurePlayerTestCatalog(), edgeCacheSize: '64MB', tlsDir: join(scratch, 'tls'), extraArgs: QUICK_STOP_ARGS });
    browser = await launchChromium([`--ignore-certificate-errors-spki-list=${stack.ca!.spkiSha256}`]);
  },
  { timeout: 240_000 },
);

after(async () => {
  await browser?.close();
  await stack?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

test('hls.js plays over HTTPS from the balancer and https edges, every fragment loaded and hits served', { timeout: 120_000 }, async (t) => {
  assert.match(stack.balancerUrl!, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(stack.edges.every((edge) => edge.url.startsWith('https://')), 'every edge listens on https');
  const player = await openPlayer(browser, stack.balancerUrl!, { asset: 'demo-ts', region: 'us-east' });
  try {
    const { from, stats } = await player.play(WATCH_SECONDS);
    assert.deepEqual(fatalProblems(stats), [], 'no fatal hls.js error');
    const played = stats.currentTime - from;
    assert.ok(played >= WATCH_SECONDS, `currentTime advanced ${played.toFixed(2)} s`);
    assert.equal(stats.fragments.failed, 0, `failed fragment loads: ${JSON.stringify(stats.errors)}`);
    assert.ok(stats.fragments.loaded >= 3, `fragments loaded: ${stats.fragments.loaded}`);
    assert.match(stats.masterUrl ?? '', /^https:\/\//);
    assert.ok(stats.edgesSeen.length > 0 && stats.edgesSeen.every((id) => stack.edges.some((edge) => edge.id === id)), `edges: ${stats.edgesSeen.join(', ')}`);
    assert.deepEqual(player.problems(), [], 'no page error, no CSP violation, no mixed content');
    t.diagnostic(`https: startup ${Math.round(stats.stalls.startupMs ?? -1)} ms, played ${played.toFixed(2)} s, fragments ${stats.fragments.loaded}, cache hits ${stats.cache.hits} / misses ${stats.cache.misses}, edge ${stats.servedBy}`);
  } finally {
    await player.close();
  }
  // A second viewer of the same title is served from the edges' caches.
  const second = await openPlayer(browser, stack.balancerUrl!, { asset: 'demo-ts', region: 'us-east' });
  try {
    const { stats } = await second.play(2);
    assert.ok(stats.cache.hits > 0, `cache hits for the second viewer: ${JSON.stringify(stats.cache)}`);
  } finally {
    await second.close();
  }
});

test('without the pin Chromium refuses the run’s certificate: checks are on', { timeout: 60_000 }, async () => {
  const unpinned = await launchChromium();
  try {
    const page = await unpinned.newPage();
    await assert.rejects(page.goto(`${stack.balancerUrl!}/`), /ERR_CERT_AUTHORITY_INVALID/);
  } finally {
    await unpinned.close();
  }
});
