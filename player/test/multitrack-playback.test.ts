// A packaged two-language asset with subtitles plays in Chromium through the real local stack:
// the page offers both audio tracks and the subtitle track, and switching audio plays on. Through
// the steering front each pathway has its own rendition groups; redirect and proxy keep relative URIs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { makeMultitrackSource } from '../../origin/test/multitrack-source.js';
import { startLocalStack, type LocalStack } from '../../stack/local-stack.js';
import { SHIPPED_LOCATIONS_FILE } from '../../stack/stack-topology.js';
import { spawnStreamedge } from '../../stack/streamedge-process.js';
import { artifactPath } from './artifacts.js';
import { launchChromium } from './chromium.js';
import { fatalProblems, openPlayer, type PlayerPage } from './player-page.js';
import { QUICK_STOP_ARGS } from '../../stack/test/quick-stop-fixture.js';

const CLI = fileURLToPath(new URL('../../stack/cli/streamedge.js', import.meta.url));
const ASSET = 'two-lang';
const REGION = 'us-east';

let work: string;
let stack: LocalStack;
let browser: Browser;
let packagingMs = 0;

function packageAsset(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'package', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`streamedge package exited ${code}: ${stderr}`))));
  });
}

before(
  async () => {
    work = await mkdtemp(join(tmpdir(), 'streamedge-multitrack-'));
    const source = await makeMultitrackSource(join(work, 'source'), 14, '640x360');
    const content = join(work, 'catalog');
    const started = Date.now();
    await packageAsset([source.video, '--id', ASSET, '--title', 'Two languages', '--content', content, '--subtitles', `fr=${source.subtitles}`, '--preset', 'ultrafast', '--segment-seconds', '2']);
    packagingMs = Date.now() - started;
    stack = await startLocalStack({ contentDir: content, edgeCacheSize: '64MB', extraArgs: QUICK_STOP_ARGS });
    browser = await launchChromium();
  },
  { timeout: 240_000 },
);

after(async () => {
  await browser?.close();
  await stack?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function optionsOf(player: PlayerPage, select: string): Promise<string[]> {
  return player.page.$$eval(`${select} option`, (options) => options.map((option) => option.textContent ?? ''));
}

async function assertTracksOffered(player: PlayerPage): Promise<void> {
  await player.page.waitForSelector('#audio-track option:nth-child(2)', { state: 'attached', timeout: 15_000 });
  assert.deepEqual(await optionsOf(player, '#audio-track'), ['English', 'French']);
  assert.deepEqual(await optionsOf(player, '#subtitle-track'), ['Off', 'French']);
  assert.equal(await player.page.isVisible('#audio-track'), true, 'the audio choice is shown');
  assert.equal(await player.page.isVisible('#subtitle-track'), true, 'the subtitle choice is shown');
}

test('a packaged two-language asset offers its audio and subtitle tracks, and switching audio plays on (steering)', { timeout: 120_000 }, async (t) => {
  t.diagnostic(`packaging the 14 s 640x360 source (240p rung, 2 audio, 1 subtitle track, ultrafast) took ${packagingMs} ms`);
  const player = await openPlayer(browser, stack.balancerUrl!, { asset: ASSET, region: REGION });
  try {
    const { stats } = await player.play(2);
    assert.deepEqual(fatalProblems(stats), []);
    assert.equal(stats.route, 'steering');
    await assertTracksOffered(player);
    assert.equal(await player.page.getAttribute('#audio-track', 'data-active'), '0', 'English plays first (DEFAULT=YES)');

    await player.page.selectOption('#subtitle-track', { label: 'French' });
    await player.page.selectOption('#audio-track', { label: 'French' });
    await player.page.waitForSelector('#audio-track[data-active="1"]', { state: 'attached', timeout: 15_000 });
    const switchedAt = (await player.stats()).currentTime;
    const later = await player.waitFor('3 s of playback after switching to French', (s) => s.currentTime - switchedAt >= 3 || s.fatalError !== null, 20_000);
    assert.deepEqual(fatalProblems(later), [], 'no fatal error after the switch');
    assert.ok(later.edgesSeen.every((id) => stack.edges.some((edge) => edge.id === id)), `fragments from edges: ${later.edgesSeen.join(', ')}`);
    const activeCues = await player.page.$eval('video', (element) => {
      const tracks = (element as unknown as { textTracks: ArrayLike<{ mode: string; cues: { length: number } | null }> }).textTracks;
      return Array.from(tracks)
        .filter((track) => track.mode === 'showing')
        .map((track) => track.cues?.length ?? 0);
    });
    assert.ok(activeCues.length === 1 && activeCues[0]! > 0, `the French subtitle track shows with cues loaded: ${JSON.stringify(activeCues)}`);
    assert.deepEqual(player.problems(), []);
    await player.page.screenshot({ path: await artifactPath('player-two-languages.png') });
    t.diagnostic(`steering: startup ${stats.stalls.startupMs} ms, switched audio at ${switchedAt.toFixed(1)} s, played to ${later.currentTime.toFixed(1)} s, stalls ${later.stalls.count}, subtitle cues ${activeCues[0]}`);
  } finally {
    await player.close();
  }
});

for (const mode of ['redirect', 'proxy'] as const) {
  test(`the same asset plays with its tracks through the ${mode} front (relative URIs)`, { timeout: 60_000 }, async (t) => {
    const balancer = await spawnStreamedge(['balancer', '--port', '0', '--consul', stack.consulUrl, '--mode', mode, '--locations', SHIPPED_LOCATIONS_FILE]);
    t.after(() => balancer.stop());
    const player = await openPlayer(browser, balancer.url, { asset: ASSET, region: REGION });
    try {
      const { from, stats } = await player.play(3);
      assert.deepEqual(fatalProblems(stats), []);
      // The page sees a redirect; behind the proxy the balancer's own origin answers every request.
      assert.equal(stats.route, mode === 'redirect' ? 'redirect' : 'direct');
      await assertTracksOffered(player);
      t.diagnostic(`${mode}: startup ${stats.stalls.startupMs} ms, played ${(stats.currentTime - from).toFixed(1)} s`);
    } finally {
      await player.close();
    }
  });
}
