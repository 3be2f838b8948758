// Low-Latency HLS requests an origin holds on purpose (draft-pantos-hls-rfc8216bis §6.2.5.2, §6.2.6):
// a blocking playlist reload (`_HLS_msn`) waits until that segment or part exists, and a request for
// a part not yet in the cache may be for the preload-hinted part, which waits until it is written.
// Such a wait says nothing about the replica: a fetch for them is never hedged (a second request
// would be held just the same, doubling the origin's load exactly where thousands of viewers wait),
// never counts as a slow or failed replica, and is bounded by the hold wait rather than the
// ordinary response timeout. The viewers waiting on held fetches are bounded too.
import { isPlaylistPath } from '../../infra/hls/child-uri-query.js';
import { isBlockingReloadKey } from '../cache/delivery-directives.js';

export interface HeldRequestsOptions {
  /** Longest wait for the headers of a held fetch (the origin holds up to 3 target durations). */
  readonly holdWaitMs: number;
  /** Viewer requests waiting on held fetches at once, per process; beyond it, 503 + Retry-After. */
  readonly maxWaiters: number;
  /** Renditions remembered as low-latency (least recently seen out). */
  readonly maxRenditions?: number;
}

export interface HeldRequests {
  readonly holdWaitMs: number;
  /** Whether a fetch of this cache key may be held upstream. */
  isHeld(key: string): boolean;
  /** A media playlist arrived: its rendition is low-latency while it lists parts (EXT-X-PART-INF). */
  notePlaylist(key: string, body: Buffer): void;
  /** Admits one viewer request to wait on a held fetch: its release, or undefined when the bound is reached. */
  admit(): (() => void) | undefined;
  /** A held fetch started: call the result once it ends. */
  flightStarted(): () => void;
  readonly waiters: number;
  readonly flights: number;
}

const PART_INF = Buffer.from('#EXT-X-PART-INF:');
const DEFAULT_MAX_RENDITIONS = 10_000;

function directoryOf(key: string): string {
  const path = key.split('?')[0]!;
  return path.slice(0, path.lastIndexOf('/') + 1);
}

/** A release that counts once however often it is called (a response closing after it ended, say). */
function once(release: () => void): () => void {
  let released = false;
  return () => {
    if (released) return;
    released = true;
    release();
  };
}

export function createHeldRequests(options: HeldRequestsOptions): HeldRequests {
  const { holdWaitMs, maxWaiters } = options;
  const maxRenditions = options.maxRenditions ?? DEFAULT_MAX_RENDITIONS;
  if (!Number.isInteger(holdWaitMs) || holdWaitMs < 100 || holdWaitMs > 60_000) throw new TypeError(`held requests: holdWaitMs must be an integer 100..60000, got ${holdWaitMs}`);
  if (!Number.isInteger(maxWaiters) || maxWaiters < 1) throw new TypeError(`held requests: maxWaiters must be a positive integer, got ${maxWaiters}`);
  if (!Number.isInteger(maxRenditions) || maxRenditions < 1) throw new TypeError(`held requests: maxRenditions must be a positive integer, got ${maxRenditions}`);
  // Rendition directories whose playlist lists parts, oldest first (a Map keeps insertion order).
  const lowLatency = new Map<string, true>();
  let waiters = 0;
  let flights = 0;
  return {
    holdWaitMs,
    isHeld(key) {
      if (isBlockingReloadKey(key)) return true;
      return !isPlaylistPath(key) && lowLatency.has(directoryOf(key));
    },
    notePlaylist(key, body) {
      const directory = directoryOf(key);
      lowLatency.delete(directory);
      if (body.indexOf(PART_INF) === -1) return;
      lowLatency.set(directory, true);
      if (lowLatency.size > maxRenditions) lowLatency.delete(lowLatency.keys().next().value!);
    },
    admit() {
      if (waiters >= maxWaiters) return undefined;
      waiters++;
      return once(() => waiters--);
    },
    flightStarted() {
      flights++;
      return once(() => flights--);
    },
    get waiters() {
      return waiters;
    },
    get flights() {
      return flights;
    },
  };
}
