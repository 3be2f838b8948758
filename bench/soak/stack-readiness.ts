// When the soak's stack is ready for its viewers. `startLocalStack` returns once every service
// answers its health check, but no process has served a viewer yet: their first requests run
// cold code and fill empty caches, and with 20 viewers arriving in the same millisecond on a busy
// machine those first master playlists took over the viewers' 4 s timeout (a soak under a CPU
// quota of 0.3 core: 19 of 20 first masters timed out, every retry answered). The soak measures
// the stack running, not its start, so it first plays each title once from each region, as one
// viewer, until a segment arrives; the soak's viewers and clock start after that. What this
// priming cost (time, requests, failures) is reported, not hidden.
import { DEFAULT_VIEWER_BEHAVIOUR, startSyntheticViewer } from '../../stack/drill/synthetic-viewer.js';
import { viewerPlacement, REGION_COUNT } from './soak-viewers.js';

export interface ReadinessOptions {
  readonly balancerUrl: string;
  readonly media: readonly string[];
  readonly rendition: string;
  /** Bound on the whole priming: a stack that cannot play within it is not ready, and the soak fails. */
  readonly timeoutMs: number;
  readonly now?: () => number;
}

export interface Readiness {
  readonly tookMs: number;
  /** Viewers that played (one per title and region). */
  readonly viewers: number;
  readonly requests: number;
  readonly failed: number;
}

const POLL_MS = 100;

/** Plays each title from each region until every one has a segment in its buffer; throws past the timeout. */
export async function primeStack(options: ReadinessOptions): Promise<Readiness> {
  if (!(options.timeoutMs > 0)) throw new RangeError(`soak readiness: timeoutMs must be positive, got ${options.timeoutMs}`);
  const now = options.now ?? Date.now;
  const startedAt = now();
  const viewers = Array.from({ length: options.media.length * REGION_COUNT }, (_, index) => {
    const placement = viewerPlacement(index, options.media);
    return startSyntheticViewer({
      id: `ready-${index + 1} (${placement.media}, ${placement.region})`,
      masterUrl: `${options.balancerUrl}/${placement.media}/master.m3u8`,
      rendition: options.rendition,
      ...DEFAULT_VIEWER_BEHAVIOUR,
      localAddress: placement.localAddress,
    });
  });
  try {
    while (viewers.some((viewer) => viewer.stats().startupMs === undefined)) {
      if (now() - startedAt > options.timeoutMs) {
        const waiting = viewers.filter((viewer) => viewer.stats().startupMs === undefined).map((viewer) => viewer.id);
        throw new Error(`soak readiness: no segment within ${options.timeoutMs} ms for ${waiting.join(', ')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    await Promise.all(viewers.map((viewer) => viewer.stop()));
  }
  const stats = viewers.map((viewer) => viewer.stats());
  return { tookMs: now() - startedAt, viewers: viewers.length, requests: stats.reduce((sum, s) => sum + s.requests, 0), failed: stats.reduce((sum, s) => sum + s.failed, 0) };
}
