import Hls, { type ErrorData, type HlsConfig } from 'hls.js';
import type { QoeCollector } from './qoe-collector.js';
import { rebasingPlaylistLoader } from './rebasing-playlist-loader.js';

export interface PlayerSessionOptions {
  readonly video: HTMLVideoElement;
  readonly collector: QoeCollector;
  /** URL of hls.js's transmuxing worker, served beside the bundle (no blob: workers). */
  readonly workerUrl: string;
  /** Re-asking the balancer after hls.js gives up: at most this many times in a row. */
  readonly maxRecoveries?: number;
  /** hls.js debug logging to the browser console (the page's `?debug` query). */
  readonly debug?: boolean;
  /** Called with each hls.js instance the session makes (a load, or a recovery), before it loads. */
  readonly onHls?: (hls: Hls) => void;
}

function loadPolicy(maxLoadTimeMs: number, errorRetries: number): HlsConfig['fragLoadPolicy'] {
  return {
    default: {
      maxTimeToFirstByteMs: 3_000,
      maxLoadTimeMs,
      timeoutRetry: { maxNumRetry: 2, retryDelayMs: 0, maxRetryDelayMs: 0 },
      errorRetry: { maxNumRetry: errorRetries, retryDelayMs: 250, maxRetryDelayMs: 2_000 },
    },
  };
}

// Fragments are 2 s long: an edge that has not started answering within 3 s is of no use to a
// viewer with a few seconds of buffer, so give up early and let steering move on. Connection
// errors (status 0) are never retried on the same edge; hls.js switches level, then pathway.
const fragmentPolicy = loadPolicy(20_000, 3);
const playlistPolicy = loadPolicy(10_000, 2);

/**
 * Drives the video element with hls.js for one asset at a time. When hls.js declares a fatal
 * network error (every pathway it knows failed, or the redirect front pointed at an edge that
 * has since died) the session asks the balancer again: the master playlist request is routed
 * afresh to a healthy edge and playback resumes where it stopped.
 */
export class PlayerSession {
  readonly #video: HTMLVideoElement;
  readonly #collector: QoeCollector;
  readonly #workerUrl: string;
  readonly #maxRecoveries: number;
  readonly #debug: boolean;
  readonly #onHls: ((hls: Hls) => void) | undefined;
  #hls: Hls | null = null;
  #masterUrl: string | null = null;
  #live = false;
  /** Recoveries since the last fragment that loaded. */
  #failedRecoveries = 0;
  /** Where VOD resumes after a recovery, kept across attempts that fail before any fragment loads. */
  #resumeAt: number | null = null;
  #mediaRecoveries = 0;
  #recoveryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: PlayerSessionOptions) {
    this.#video = options.video;
    this.#collector = options.collector;
    this.#workerUrl = options.workerUrl;
    this.#maxRecoveries = options.maxRecoveries ?? 6;
    this.#debug = options.debug ?? false;
    this.#onHls = options.onHls;
  }

  static isSupported(): boolean {
    return Hls.isSupported();
  }

  load(assetId: string, masterUrl: string, live: boolean): void {
    this.#masterUrl = masterUrl;
    this.#live = live;
    this.#failedRecoveries = 0;
    this.#resumeAt = null;
    this.#mediaRecoveries = 0;
    this.#collector.beginSession(assetId, masterUrl);
    this.#start(-1);
    void this.#video.play().catch(() => {
      // Autoplay refused (e.g. unmuted by the viewer before): the controls stay usable.
    });
  }

  #start(startPosition: number): void {
    this.#destroyHls();
    const config: Partial<HlsConfig> = {
      workerPath: this.#workerUrl,
      debug: this.#debug,
      startPosition,
      pLoader: rebasingPlaylistLoader(),
      fragLoadPolicy: fragmentPolicy,
      playlistLoadPolicy: playlistPolicy,
      // Without this, a session that lost one level on a dying edge stays capped below it for good.
      errorPenaltyExpireMs: 15_000,
      // Live: blocking playlist reloads and parts when the playlist offers them (Low-Latency HLS),
      // and playback up to 1.25× to catch up with the target latency rather than a seek.
      lowLatencyMode: this.#live,
      maxLiveSyncPlaybackRate: this.#live ? 1.25 : 1,
    };
    const hls = new Hls(config);
    this.#hls = hls;
    this.#collector.attach(hls);
    this.#onHls?.(hls);
    hls.on(Hls.Events.ERROR, (_event, data) => this.#onError(hls, data));
    hls.on(Hls.Events.FRAG_LOADED, () => {
      this.#failedRecoveries = 0;
      this.#resumeAt = null;
    });
    hls.loadSource(this.#masterUrl!);
    hls.attachMedia(this.#video);
  }

  #onError(hls: Hls, data: ErrorData): void {
    if (!data.fatal || hls !== this.#hls) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && this.#mediaRecoveries < 1) {
      this.#mediaRecoveries++;
      hls.recoverMediaError();
      return;
    }
    if (data.type !== Hls.ErrorTypes.NETWORK_ERROR || this.#failedRecoveries >= this.#maxRecoveries) return;
    // A refused signed URL (missing, expired or forged token) is not mended by asking again.
    if (data.response?.code === 403) return;
    this.#failedRecoveries++;
    this.#collector.recordRecovery();
    // VOD resumes where it stopped; live rejoins at the live edge.
    this.#resumeAt ??= this.#live ? -1 : this.#video.currentTime;
    const resumeAt = this.#resumeAt;
    // Backing off gives the balancer time to learn (passive health, Consul checks) that the edge
    // it sent us to is gone: 0.5, 1, 2, 4, 8, 8 s.
    const delayMs = Math.min(500 * 2 ** (this.#failedRecoveries - 1), 8_000);
    clearTimeout(this.#recoveryTimer);
    this.#recoveryTimer = setTimeout(() => {
      this.#start(resumeAt);
      void this.#video.play().catch(() => undefined);
    }, delayMs);
  }

  #destroyHls(): void {
    clearTimeout(this.#recoveryTimer);
    this.#hls?.destroy();
    this.#hls = null;
  }
}
