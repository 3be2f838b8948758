// Low-Latency HLS end to end in a real Chromium, shared by the suite's short watch
// (low-latency-playback.test.ts) and the two-minute benchmark (`npm run bench:ll-playback`): the
// real encoder writing parts (`streamedge live --low-latency`), origins holding blocking reloads,
// edges coalescing them, the balancer steering, hls.js in lowLatencyMode. The targets are issue
// 13's: latency behind live ≤ 2.5 s, no stall, and a stall of at most 3 s when the serving edge is
// SIGKILLed.
import { setTimeout as sleep } from 'node:timers/promises';
import { startLocalStack, type LocalStack } from '../../stack/local-stack.js';
import { parseCatalog } from '../shared/catalog.js';
import type { QoeSnapshot } from '../shared/qoe-snapshot.js';
import { launchChromium } from './chromium.js';
import type { LiveViewing } from './live-viewing.js';
import { fatalProblems, openPlayer, type PlayerPage } from './player-page.js';
import { copyPlayerTestCatalog, PLAYER_TEST_LIVE } from './player-test-catalog.js';

export const LOW_LATENCY_TARGETS = { maxLatencyS: 2.5, maxStalls: 0, maxFailoverStallMs: 3_000 } as const;

const REGION = 'us-east';
const STEERING_TTL = '4s';
/** How long hls.js's latency controller may take to settle on its target before the watch starts. */
const SETTLE_TIMEOUT_MS = 30_000;

/** What came up so far: each part is set as soon as it is running, so a failed start still tears down the rest. */
export interface LowLatencyViewing extends LiveViewing {
  stack?: LocalStack;
  browser?: LiveViewing['browser'];
  player?: PlayerPage;
  content?: { readonly dir: string; remove(): Promise<void> };
}

/** The stack with its live channel in --low-latency, Chromium, and the player page playing it for 2 s. */
export async function startLowLatencyViewing(viewing: LowLatencyViewing): Promise<{ stack: LocalStack; player: PlayerPage }> {
  const content = await copyPlayerTestCatalog();
  viewing.content = content;
  const stack = await startLocalStack({
    contentDir: content.dir,
    live: { ...PLAYER_TEST_LIVE, args: [...PLAYER_TEST_LIVE.args, '--low-latency'] },
    edgeCacheSize: '64MB',
    extraArgs: { balancer: ['--steering-ttl', STEERING_TTL] },
  });
  viewing.stack = stack;
  const browser = await launchChromium();
  viewing.browser = browser;
  const catalog = parseCatalog(await (await fetch(`${stack.balancerUrl}/catalog.json`)).json());
  const live = catalog.find((asset) => asset.kind === 'live');
  if (!live) throw new Error('the catalog has no live channel');
  const player = await openPlayer(browser, stack.balancerUrl!, { asset: live.id, region: REGION });
  viewing.player = player;
  await player.play(2);
  return { stack, player };
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

export interface WatchFigures {
  readonly seconds: number;
  readonly latencyS: { readonly median: number; readonly p95: number; readonly max: number | undefined };
  readonly targetLatencyS: number | null;
  readonly stalls: number;
  readonly stalledMs: number;
  readonly played: number;
  /** The playlist lists parts (hls.js's own reading, once its latency settled). */
  readonly lowLatency: boolean;
  /** What the page's stats overlay shows for low-latency. */
  readonly overlay: string;
  /** Fatal hls.js errors or reloads after hls.js gave up, at the end of the watch. */
  readonly fatal: readonly string[];
  /** Uncaught page errors and CSP violations. */
  readonly problems: readonly string[];
}

/** Waits for hls.js's latency to settle within the target, then samples it once a second for `seconds`. */
export async function watchLowLatency(player: PlayerPage, seconds: number): Promise<WatchFigures> {
  const settled = await player.waitFor('live latency within the target', (s) => s.live !== null && s.live.latencyS > 0 && s.live.latencyS <= LOW_LATENCY_TARGETS.maxLatencyS, SETTLE_TIMEOUT_MS);
  const start = await player.stats();
  const latencies: number[] = [];
  for (let second = 0; second < seconds; second++) {
    await sleep(1000);
    const stats = await player.stats();
    if (stats.live) latencies.push(stats.live.latencyS);
  }
  const end = await player.stats();
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    seconds,
    latencyS: { median: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), max: sorted.at(-1) },
    targetLatencyS: end.live?.targetLatencyS ?? null,
    stalls: end.stalls.count - start.stalls.count,
    stalledMs: end.stalls.totalMs - start.stalls.totalMs,
    played: end.currentTime - start.currentTime,
    lowLatency: settled.live!.lowLatency,
    overlay: await player.overlay('low-latency'),
    fatal: fatalProblems(end),
    problems: player.problems(),
  };
}

export interface FailoverFigures {
  readonly killed: string;
  readonly movedTo: string | null;
  readonly stallMs: number;
  readonly stalls: number;
  readonly latencyAfterS: number | undefined;
  readonly fatal: readonly string[];
}

/** SIGKILLs the edge serving the page, then watches 6 s of playback after the page moved off it. */
export async function killServingEdge(stack: LocalStack, player: PlayerPage): Promise<FailoverFigures> {
  const prior = await player.stats();
  const victim = stack.edges.find((edge) => edge.id === prior.servedBy);
  if (!victim) throw new Error(`served by a stack edge, not ${prior.servedBy}`);
  await victim.process.kill();
  const moved = await player.waitFor(`the player to leave ${victim.id}`, (s) => s.servedBy !== victim.id || s.fatalError !== null, 20_000);
  const later: QoeSnapshot = await player.waitFor('6 s of playback after the move', (s) => s.currentTime - moved.currentTime >= 6 || s.fatalError !== null, 30_000);
  return {
    killed: victim.id,
    movedTo: later.servedBy,
    stallMs: later.stalls.totalMs - prior.stalls.totalMs,
    stalls: later.stalls.count - prior.stalls.count,
    latencyAfterS: later.live?.latencyS,
    fatal: fatalProblems(later),
  };
}
