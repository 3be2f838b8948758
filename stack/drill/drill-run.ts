// One drill from start to verdict: viewers watch, the fault goes in, the system is watched until
// it notices, the fault comes out, the system is watched until it says it is well again, the
// viewers watch a little longer, and what they felt plus what the services counted is judged.
import { startBrowserViewer, type BrowserViewer } from './browser-viewer.js';
import type { DrillFault } from './drill-fault.js';
import type { FaultProbe } from './fault-probes.js';
import type { DrillScenario } from './drill-scenarios.js';
import type { DrillTarget, TargetService } from './drill-target.js';
import { judgeDrill, type DrillMeasurements, type DrillThresholds, type DrillVerdict } from './drill-verdict.js';
import { counterGrowth, scrapeSums } from './metrics-scrape.js';
import { startSyntheticViewer, type SyntheticViewer, type ViewerStats } from './synthetic-viewer.js';

export interface DrillRunOptions {
  readonly scenario: DrillScenario;
  readonly target: DrillTarget;
  readonly viewers: number;
  readonly warmupMs: number;
  /** How long the fault stays in (for load scenarios: how long the crowd watches). */
  readonly faultMs: number;
  readonly settleMs: number;
  /** Bound on waiting for the system to report itself well after the restore. */
  readonly recoverTimeoutMs: number;
  /** e.g. live/channel-1 or vod/demo-ts */
  readonly media: string;
  readonly rendition: string | undefined;
  readonly thresholds: DrillThresholds;
  readonly chosen: readonly string[];
  readonly originDelayMs: number;
  readonly relayHost: string;
  readonly restartTimeoutMs: number;
  /** region-cut: the region to cut (default: one without the balancer). */
  readonly region?: string;
  /** edge-kill, origin-down: kill every restart of the targets again until the fault time is over. */
  readonly crashLoop?: boolean;
  readonly viewer: { readonly maxBufferSeconds: number; readonly requestTimeoutMs: number; readonly maxAttempts: number; readonly pathwayPenaltyMs: number };
  /** Hosts mode: the viewers are viewers of this region (synthetic ones connect from its address, Chromium sends the balancer its name). */
  readonly viewerRegion?: { readonly name: string; readonly viewerAddress: string };
  /** Add one real Chromium viewer playing the balancer's player page. */
  readonly browser?: { readonly chromiumPath: string };
  readonly onProgress?: (status: DrillStatus) => void;
  /** Aborted: the fault is abandoned (a stopped process continued) and the viewers stop. */
  readonly signal?: AbortSignal;
}

export interface DrillStatus {
  readonly phase: 'warm-up' | 'fault' | 'restoring' | 'recovering' | 'settle' | 'judging';
  readonly elapsedMs: number;
  readonly viewers: number;
  readonly stalledNow: number;
  readonly failed: number;
  readonly detectMs: number | undefined;
}

export interface DrillResult {
  readonly measurements: DrillMeasurements;
  readonly verdict: DrillVerdict;
  readonly thresholds: DrillThresholds;
  /** When the fault went in, came out and the system reported itself well (epoch ms), to place it among other measurements. */
  readonly timeline: { readonly injectedAt: number; readonly restoredAt: number; readonly recoveredAt: number | undefined };
}

export class DrillAborted extends Error {}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

const ORIGIN_REQUESTS = { name: 'streamedge_origin_requests_total', keep: (labels: Readonly<Record<string, string>>) => labels.kind !== 'health' };
const EDGE_ORIGIN_REQUESTS = { name: 'streamedge_edge_origin_requests_total' };
const EDGE_RESPONSES = { name: 'streamedge_edge_responses_total' };
const EDGE_MISSES = { name: 'streamedge_edge_responses_total', keep: (labels: Readonly<Record<string, string>>) => labels.cache_status === 'miss' };

/** Shields, where a stack has them, are the ones that fetch from the origins: their attempts count too. */
async function scrapeAll(origins: readonly TargetService[], edges: readonly TargetService[], shields: readonly TargetService[]) {
  const originUrls = origins.map((origin) => origin.url);
  const edgeUrls = edges.map((edge) => edge.url);
  const [origin, originAttempts, responses, misses] = await Promise.all([
    scrapeSums(originUrls, ORIGIN_REQUESTS),
    scrapeSums([...edgeUrls, ...shields.map((shield) => shield.url)], EDGE_ORIGIN_REQUESTS),
    scrapeSums(edgeUrls, EDGE_RESPONSES),
    scrapeSums(edgeUrls, EDGE_MISSES),
  ]);
  return { origin, originAttempts, responses, misses };
}

export async function runDrill(options: DrillRunOptions): Promise<DrillResult> {
  const { scenario, target, signal } = options;
  const started = Date.now();
  const checkAborted = (): void => {
    if (signal?.aborted) throw new DrillAborted('drill interrupted');
  };
  // The services as Consul lists them now; later scrapes use this list, so a relay is never counted.
  const [edges, origins, shields] = await Promise.all([target.services('edge'), target.services('origin'), target.services('shield')]);
  if (edges.length === 0) throw new Error(`Consul at ${target.consulUrl} lists no streamedge-edge`);
  const masterUrl = `${target.balancerUrl}/${options.media.replace(/^\/+/, '')}/master.m3u8`;

  const viewers: (SyntheticViewer | BrowserViewer)[] = [];
  const startViewers = async (spreadMs: number): Promise<void> => {
    const region = options.viewerRegion;
    if (options.browser) {
      // A browser cannot choose its source address; the balancer takes a region hint instead.
      const hinted = region ? `${masterUrl}?region=${encodeURIComponent(region.name)}` : masterUrl;
      viewers.push(await startBrowserViewer({ balancerUrl: target.balancerUrl, masterUrl: hinted, chromiumPath: options.browser.chromiumPath }));
    }
    for (let i = 0; i < options.viewers; i++) {
      viewers.push(startSyntheticViewer({ id: `viewer-${i + 1}`, masterUrl, rendition: options.rendition, ...options.viewer, ...(region ? { localAddress: region.viewerAddress } : {}) }));
      if (spreadMs > 0) await sleep(spreadMs / options.viewers, signal);
    }
  };
  let phase: DrillStatus['phase'] = 'warm-up';
  let detectMs: number | undefined;
  const report = (): void => {
    const stats = viewers.map((viewer) => viewer.stats());
    options.onProgress?.({
      phase,
      elapsedMs: Date.now() - started,
      viewers: stats.length,
      stalledNow: stats.filter((s) => s.stalled).length,
      failed: stats.reduce((sum, s) => sum + s.failed, 0),
      detectMs,
    });
  };
  const progressTimer = setInterval(report, 500);

  let fault: DrillFault | undefined;
  let faultInPlace = false;
  const abandon = (): void => {
    if (faultInPlace) fault?.abandon();
    faultInPlace = false;
  };
  signal?.addEventListener('abort', abandon, { once: true });
  try {
    const before = await scrapeAll(origins, edges, shields);
    if (!scenario.herd) {
      await startViewers(Math.min(2000, options.warmupMs / 2));
      await sleep(options.warmupMs, signal);
    }
    checkAborted();

    const prepared = await scenario.prepare({
      target,
      edges,
      origins,
      shields,
      chosen: options.chosen,
      viewers: viewers.map((viewer) => viewer.stats()),
      originDelayMs: options.originDelayMs,
      relayHost: options.relayHost,
      restartTimeoutMs: options.restartTimeoutMs,
      region: options.region,
      crashLoop: options.crashLoop ?? false,
    });
    fault = prepared.fault;
    const probe: FaultProbe | undefined = prepared.probe;
    await probe?.baseline();

    const onFault = (): number | undefined => {
      const faulted = prepared.faultedPathways;
      return faulted && viewers.filter((viewer) => faulted.includes(viewer.stats().pathway ?? '')).length;
    };
    const onFaultAtInject = onFault();
    phase = 'fault';
    const injectedAt = Date.now();
    if (fault) {
      faultInPlace = true;
      await fault.inject();
    }
    if (scenario.herd) await startViewers(0);
    // Detection counts only while the fault is in: one the system never noticed is reported so.
    let restoredAt: number | undefined;
    let stayedOnFault: number | undefined;
    const watchDetection = async (): Promise<void> => {
      while (probe && detectMs === undefined && restoredAt === undefined && !signal?.aborted) {
        if (await probe.detected().catch(() => false)) detectMs = Date.now() - injectedAt;
        else await sleep(200, signal);
      }
    };
    const holdAndRestore = async (): Promise<void> => {
      if (!fault?.selfRestoring) await sleep(options.faultMs, signal);
      checkAborted();
      phase = 'restoring';
      stayedOnFault = onFault();
      if (fault) {
        await fault.restore();
        faultInPlace = false;
      }
      restoredAt = Date.now();
    };
    await Promise.all([watchDetection(), holdAndRestore()]);
    checkAborted();
    restoredAt ??= Date.now();
    const faultHeldMs = fault ? restoredAt - injectedAt : undefined;

    phase = 'recovering';
    let recoverMs: number | undefined;
    if (probe) {
      const deadline = restoredAt + options.recoverTimeoutMs;
      while (Date.now() < deadline && !signal?.aborted) {
        if (await probe.recovered().catch(() => false)) {
          recoverMs = Date.now() - restoredAt;
          break;
        }
        await sleep(200, signal);
      }
    }
    checkAborted();

    phase = 'settle';
    await sleep(options.settleMs, signal);
    checkAborted();

    phase = 'judging';
    const final: ViewerStats[] = await Promise.all(viewers.map((viewer) => viewer.stop()));
    const after = await scrapeAll(origins, edges, shields);
    const measurements: DrillMeasurements = {
      scenario: scenario.name,
      fault: fault?.description ?? scenario.summary,
      detects: probe?.detects,
      media: `${options.media} (${options.rendition ?? 'lowest rendition'})`,
      viewers: final,
      durationMs: Date.now() - started,
      faultHeldMs,
      detectMs,
      recoverMs,
      originRequests: counterGrowth(before.origin, after.origin),
      originAttempts: counterGrowth(before.originAttempts, after.originAttempts),
      originAttemptsBy: shields.length > 0 ? 'edges + shields' : 'edges',
      edgeResponses: counterGrowth(before.responses, after.responses),
      edgeMisses: counterGrowth(before.misses, after.misses),
      ...(onFaultAtInject === undefined ? {} : { onFaultAtInject }),
      ...(stayedOnFault === undefined ? {} : { stayedOnFault }),
    };
    const timeline = { injectedAt, restoredAt, recoveredAt: recoverMs === undefined ? undefined : restoredAt + recoverMs };
    return { measurements, verdict: judgeDrill(measurements, options.thresholds), thresholds: options.thresholds, timeline };
  } finally {
    clearInterval(progressTimer);
    signal?.removeEventListener('abort', abandon);
    if (faultInPlace) await fault?.restore().catch(() => fault?.abandon());
    await Promise.all(viewers.map((viewer) => viewer.stop()));
  }
}
