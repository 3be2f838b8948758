import type { StallSnapshot } from './stall-clock.js';

/**
 * What the player page publishes on `window.streamedgeStats`: a plain, JSON-safe snapshot of the
 * viewer's quality of experience, read by the stats overlay and by the browser tests alike.
 * Times (`atMs`) are milliseconds since the page's time origin (`performance.now()`).
 */
export interface QoeSnapshot {
  readonly assetId: string | null;
  readonly masterUrl: string | null;
  /** How the balancer routed this viewer: content steering, an HTTP redirect, or neither. */
  readonly route: 'steering' | 'redirect' | 'direct' | null;
  readonly state: PlaybackState;
  readonly currentTime: number;
  /** `X-Served-By` of the last fragment response. */
  readonly servedBy: string | null;
  readonly edgesSeen: readonly string[];
  readonly edgeChanges: readonly EdgeChange[];
  /** The content-steering pathway hls.js currently loads from (pathway IDs are edge IDs). */
  readonly pathway: string | null;
  readonly pathwayPriority: readonly string[] | null;
  readonly pathwayChanges: readonly EdgeChange[];
  readonly steeringManifestLoads: number;
  readonly cache: { readonly hits: number; readonly misses: number; readonly unknown: number };
  readonly level: LevelSnapshot | null;
  readonly bandwidthEstimateBps: number | null;
  readonly bufferAheadS: number;
  /** How far behind live playback runs, on a live stream (null for VOD or before its first playlist). */
  readonly live: LiveLatencySnapshot | null;
  readonly stalls: StallSnapshot;
  readonly frames: { readonly dropped: number; readonly total: number };
  readonly fragments: { readonly loaded: number; readonly failed: number; readonly bytes: number };
  /** The most recent hls.js errors, fatal or not, oldest first. */
  readonly errors: readonly ErrorRecord[];
  readonly fatalError: string | null;
  /** Times the page re-asked the balancer for the master playlist after hls.js gave up. */
  readonly recoveries: number;
  readonly updatedAtMs: number;
}

export type PlaybackState = 'idle' | 'loading' | 'playing' | 'stalled' | 'paused' | 'ended' | 'error';

export interface EdgeChange {
  readonly atMs: number;
  readonly from: string | null;
  readonly to: string;
}

export interface LiveLatencySnapshot {
  /** hls.js `latency`: seconds from the playhead to the live edge. */
  readonly latencyS: number;
  /** hls.js `targetLatency`: what its latency controller aims for (null until it knows). */
  readonly targetLatencyS: number | null;
  /** The video's playback rate: above 1 while hls.js catches up with its target latency. */
  readonly playbackRate: number;
  /** Low-Latency HLS: the media playlist lists parts (EXT-X-PART). */
  readonly lowLatency: boolean;
}

export interface LevelSnapshot {
  readonly index: number;
  readonly height: number | null;
  readonly bitrateBps: number | null;
}

export interface ErrorRecord {
  readonly atMs: number;
  readonly type: string;
  readonly details: string;
  readonly fatal: boolean;
  readonly url: string | null;
  readonly responseCode: number | null;
}
