import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { startLocalStack, type LocalStack } from '../../stack/local-stack.js';
import { launchChromium } from './chromium.js';
import { fatalProblems, openPlayer } from './player-page.js';
import { ensurePlayerTestCatalog } from './player-test-catalog.js';
import { QUICK_STOP_ARGS } from '../../stack/test/quick-stop-fixture.js';

// The local stack with a signed-URL key on every edge and the balancer; the player page is given a
// master URL made by `streamedge sign` through its `?src=`.

const CLI = fileURLToPath(new URL('../../stack/cli/streamedge.js', import.meta.url));
const WATCH_SECONDS = 6;
const REGION = 'us-east';

let stack: LocalStack;
let browser: Browser;
let scratch: string;
let keyFile: string;

before(
  async () => {
    scratch = await mkdtemp(join(tmpdir(), 'streamedge-signed-player-'));
    keyFile = join(scratch, 'url-token.key');
    await writeFile(keyFile, 'k1:player-signed-test-secret-0123456789\n', { mode: 0o600 });
    stack = await startLocalStack({ contentDir: await ensurePlayerTestCatalog(), edgeCacheSize: '64MB', tokenSecretFile: keyFile, extraArgs: QUICK_STOP_ARGS });
    browser = await launchChromium();
  },
  { timeout: 240_000 },
);

after(async () => {
  await browser?.close();
  await stack?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

test('a master URL signed with streamedge sign plays in Chromium through the steering front, every fragment loaded', { timeout: 90_000 }, async (t) => {
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'sign', '--secret-file', keyFile, '--path', '/vod/demo-ts/', '--ttl', '10m', '--base-url', stack.balancerUrl!]);
  const signed = stdout.trim();
  assert.match(signed, /\/vod\/demo-ts\/master\.m3u8\?st=[^&]+&exp=\d+&pfx=%2Fvod%2Fdemo-ts%2F&kid=k1$/);
  const player = await openPlayer(browser, stack.balancerUrl!, { src: signed, region: REGION });
  try {
    const { from, stats } = await player.play(WATCH_SECONDS);
    assert.deepEqual(fatalProblems(stats), [], 'no fatal hls.js error');
    const played = stats.currentTime - from;
    assert.ok(played >= WATCH_SECONDS, `currentTime advanced ${played.toFixed(2)} s`);
    assert.equal(stats.fragments.failed, 0, `failed fragment loads: ${JSON.stringify(stats.errors)}`);
    assert.ok(stats.fragments.loaded >= 3, `fragments loaded: ${stats.fragments.loaded}`);
    assert.equal(stats.assetId, 'demo-ts', 'the page knew the title from the catalog');
    assert.equal(stats.masterUrl, `${signed}&region=${REGION}`);
    assert.equal(stats.route, 'steering');
    assert.ok(stats.steeringManifestLoads >= 1, 'hls.js loaded the steering manifest with the token');
    assert.ok(stats.edgesSeen.length > 0 && stats.edgesSeen.every((id) => stack.edges.some((edge) => edge.id === id)), `edges: ${stats.edgesSeen.join(', ')}`);
    assert.deepEqual(player.problems(), [], 'no page error, no CSP violation');
    t.diagnostic(`signed: startup ${Math.round(stats.stalls.startupMs ?? -1)} ms, played ${played.toFixed(2)} s, fragments ${stats.fragments.loaded} loaded / ${stats.fragments.failed} failed, edge ${stats.servedBy}, steering loads ${stats.steeringManifestLoads}`);
  } finally {
    await player.close();
  }
});

test('an unsigned master URL is refused with 403 on the first request and nothing plays', { timeout: 60_000 }, async (t) => {
  const unsigned = `${stack.balancerUrl!}/vod/demo-ts/master.m3u8`;
  const player = await openPlayer(browser, stack.balancerUrl!, { src: unsigned });
  try {
    const stats = await player.waitFor('a fatal error', (s) => s.fatalError !== null, 20_000);
    const first = stats.errors[0];
    assert.ok(first, 'an error was recorded');
    assert.deepEqual([first.details, first.responseCode, first.fatal, first.url], ['manifestLoadError', 403, true, unsigned]);
    // Give a reload (which a 403 must not cause) the time to happen.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const later = await player.stats();
    assert.equal(later.recoveries, 0, 'a refused token is not retried');
    assert.equal(later.fragments.loaded, 0);
    assert.equal(later.stalls.startupMs, null, 'no first frame');
    assert.equal(later.currentTime, 0);
    assert.deepEqual(player.problems(), []);
    t.diagnostic(`unsigned: ${first.details} ${first.responseCode}, fragments loaded ${later.fragments.loaded}`);
  } finally {
    await player.close();
  }
});

test('the page refuses a javascript: src and plays nothing', { timeout: 30_000 }, async () => {
  const player = await openPlayer(browser, stack.balancerUrl!, { src: 'javascript:alert(document.domain)//.m3u8' });
  try {
    const deadline = Date.now() + 10_000;
    let status = '';
    while (!status.includes('only http and https') && Date.now() < deadline) {
      status = (await player.page.textContent('#status')) ?? '';
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.match(status, /src: only http and https URLs are played, not javascript:/);
    const stats = await player.stats();
    assert.equal(stats.masterUrl, null);
    assert.deepEqual(player.problems(), []);
  } finally {
    await player.close();
  }
});
