import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { QoeSnapshot } from '../shared/qoe-snapshot.js';

export interface PlayerPage {
  readonly page: Page;
  /** Uncaught page errors and Content-Security-Policy violations seen so far. */
  problems(): string[];
  stats(): Promise<QoeSnapshot>;
  /** Polls window.streamedgeStats until `done` holds; fails naming `what` with the last snapshot. */
  waitFor(what: string, done: (stats: QoeSnapshot) => boolean, timeoutMs: number): Promise<QoeSnapshot>;
  /** Waits for the first frame, then for currentTime to advance by `seconds`. */
  play(seconds: number): Promise<{ from: number; stats: QoeSnapshot }>;
  /** Text the stats overlay shows for one field (data-stat key). */
  overlay(field: string): Promise<string>;
  close(): Promise<void>;
}

export interface OpenPlayerOptions {
  /** The catalog title to play; or */
  readonly asset?: string;
  /** a master playlist URL for the page's `?src=` (e.g. a signed URL). */
  readonly src?: string;
  /** The viewer-location hint the page passes on to the balancer. */
  readonly region?: string;
}

const POLL_MS = 200;

function summary(stats: QoeSnapshot | undefined): string {
  if (!stats) return 'no stats published';
  const { state, currentTime, servedBy, pathway, edgesSeen, fragments, stalls, fatalError, errors, recoveries } = stats;
  return JSON.stringify({ state, currentTime, servedBy, pathway, edgesSeen, fragments, stalls, fatalError, recoveries, errors: errors.slice(-5) });
}

/** Opens the player page the balancer serves, in its own browser context. */
export async function openPlayer(browser: Browser, balancerUrl: string, options: OpenPlayerOptions): Promise<PlayerPage> {
  const context: BrowserContext = await browser.newContext({ viewport: { width: 1280, height: 880 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
  });
  const url = new URL('/', balancerUrl);
  if (options.asset !== undefined) url.searchParams.set('asset', options.asset);
  if (options.src !== undefined) url.searchParams.set('src', options.src);
  if (options.region) url.searchParams.set('region', options.region);
  await page.goto(url.href, { waitUntil: 'load' });

  const stats = async (): Promise<QoeSnapshot> => {
    const snapshot = await page.evaluate(() => (globalThis as { streamedgeStats?: QoeSnapshot }).streamedgeStats);
    if (!snapshot) throw new Error('the page published no window.streamedgeStats');
    return snapshot;
  };
  const waitFor = async (what: string, done: (stats: QoeSnapshot) => boolean, timeoutMs: number): Promise<QoeSnapshot> => {
    const deadline = Date.now() + timeoutMs;
    let last: QoeSnapshot | undefined;
    while (Date.now() < deadline) {
      last = await stats();
      if (done(last)) return last;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last stats: ${summary(last)}; problems: ${problems.join(' | ') || 'none'}`);
  };
  return {
    page,
    problems: () => [...problems],
    stats,
    waitFor,
    async play(seconds) {
      const started = await waitFor('the first frame', (s) => s.stalls.startupMs !== null || s.fatalError !== null, 30_000);
      const from = started.currentTime;
      const stats = await waitFor(`${seconds} s of playback from ${from.toFixed(2)} s`, (s) => s.currentTime - from >= seconds || s.fatalError !== null, seconds * 1000 + 15_000);
      return { from, stats };
    },
    overlay: async (field) => (await page.textContent(`[data-stat="${field}"]`)) ?? '',
    close: () => context.close(),
  };
}

/** Fatal hls.js errors (or page-level recoveries from them) in a snapshot, for assertion messages. */
export function fatalProblems(stats: QoeSnapshot): string[] {
  return [
    ...(stats.fatalError ? [`fatal: ${stats.fatalError}`] : []),
    ...stats.errors.filter((error) => error.fatal).map((error) => `fatal ${error.details} ${error.url ?? ''}`),
    ...(stats.recoveries > 0 ? [`${stats.recoveries} reload(s) from the balancer after hls.js gave up`] : []),
  ];
}
