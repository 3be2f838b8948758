// The one real viewer a drill can add (`--browser`): headless Chromium playing the balancer's own
// player page with hls.js, its quality of experience read from the page's `window.streamedgeStats`
// and reported beside the synthetic viewers. playwright-core is a development dependency, loaded
// only when asked for, so a production install of streamedge never needs it.
import type { chromium as Chromium } from 'playwright-core';
import type { ViewerStats } from './synthetic-viewer.js';

export interface BrowserViewerOptions {
  readonly balancerUrl: string;
  readonly masterUrl: string;
  /** Chromium binary (Debian's package `chromium`). */
  readonly chromiumPath: string;
  readonly startTimeoutMs?: number;
}

export interface BrowserViewer {
  /** The last figures read from the page (refreshed every half second). */
  stats(): ViewerStats;
  stop(): Promise<ViewerStats>;
}

/** The part of the player's QoE snapshot (player/shared/qoe-snapshot.ts) a drill reads. */
interface PageStats {
  readonly pathway: string | null;
  readonly pathwayChanges: readonly unknown[];
  readonly stalls: { readonly startupMs: number | null; readonly count: number; readonly totalMs: number; readonly stalled: boolean };
  readonly fragments: { readonly loaded: number; readonly failed: number };
  readonly fatalError: string | null;
}

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'];

function toViewerStats(page: PageStats | undefined): ViewerStats {
  return {
    id: 'chromium',
    startupMs: page?.stalls.startupMs ?? undefined,
    stallMs: page?.stalls.totalMs ?? 0,
    stalls: page?.stalls.count ?? 0,
    stalled: page?.stalls.stalled ?? false,
    requests: (page?.fragments.loaded ?? 0) + (page?.fragments.failed ?? 0),
    failed: page?.fragments.failed ?? 0,
    // hls.js retries inside its loaders, out of the page's sight.
    retried: 0,
    lost: page?.fatalError ? 1 : 0,
    // The page does not check bytes against ETags; the synthetic viewers do.
    corrupt: 0,
    segments: page?.fragments.loaded ?? 0,
    skippedSegments: 0,
    pathwaySwitches: page?.pathwayChanges.length ?? 0,
    pathway: page?.pathway ?? undefined,
    firstFailureAt: undefined,
    lastFailureAt: undefined,
  };
}

export async function startBrowserViewer(options: BrowserViewerOptions): Promise<BrowserViewer> {
  let chromium: typeof Chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    throw new Error('--browser needs playwright-core (a development dependency: run `npm ci` in the streamedge checkout)');
  }
  const browser = await chromium.launch({ executablePath: options.chromiumPath, args: CHROMIUM_ARGS, timeout: options.startTimeoutMs ?? 30_000 });
  let last: PageStats | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const page = await browser.newPage();
    const url = `${options.balancerUrl}/?src=${encodeURIComponent(options.masterUrl)}`;
    await page.goto(url, { timeout: options.startTimeoutMs ?? 30_000 });
    const read = async (): Promise<void> => {
      // Runs in the page, where the global object is the window.
      last = (await page.evaluate(() => (globalThis as { streamedgeStats?: unknown }).streamedgeStats ?? null).catch(() => null) as PageStats | null) ?? last;
    };
    timer = setInterval(() => void read(), 500);
    return {
      stats: () => toViewerStats(last),
      stop: async () => {
        clearInterval(timer);
        await read();
        await browser.close();
        return toViewerStats(last);
      },
    };
  } catch (error) {
    clearInterval(timer);
    await browser.close();
    throw error;
  }
}
