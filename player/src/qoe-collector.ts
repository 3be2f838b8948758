import Hls, { type ErrorData, type FragLoadedData, type ManifestLoadedData, type SteeringManifestLoadedData } from 'hls.js';
import { cacheOutcome, type CacheOutcome } from '../shared/cache-status.js';
import type { EdgeChange, ErrorRecord, LevelSnapshot, LiveLatencySnapshot, PlaybackState, QoeSnapshot } from '../shared/qoe-snapshot.js';
import { StallClock } from '../shared/stall-clock.js';
import { readResponseHeader, responseUrl } from './response-headers.js';

const MAX_ERRORS = 20;
const MAX_CHANGES = 50;
const FRAGMENT_LOAD_FAILURES = new Set<string>([Hls.ErrorDetails.FRAG_LOAD_ERROR, Hls.ErrorDetails.FRAG_LOAD_TIMEOUT]);
const CACHE_COUNTERS: Readonly<Record<CacheOutcome, keyof QoeSnapshot['cache']>> = { hit: 'hits', miss: 'misses', unknown: 'unknown' };
// hls.js names the pathway of a playlist without content steering ".".
const NO_PATHWAY = '.';

function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}

function liveLatency(hls: Hls, video: HTMLVideoElement): LiveLatencySnapshot | null {
  const details = hls.levels[Math.max(hls.currentLevel, 0)]?.details;
  if (!details?.live) return null;
  const target = hls.targetLatency;
  return {
    latencyS: hls.latency,
    targetLatencyS: target !== null && Number.isFinite(target) ? target : null,
    playbackRate: video.playbackRate,
    lowLatency: (details.partList?.length ?? 0) > 0,
  };
}

function bufferAhead(video: HTMLVideoElement): number {
  const { buffered, currentTime } = video;
  for (let i = 0; i < buffered.length; i++) {
    // A small tolerance: the playhead sits a few ms before a range that starts at a fragment boundary.
    if (buffered.start(i) <= currentTime + 0.1 && currentTime <= buffered.end(i)) return buffered.end(i) - currentTime;
  }
  return 0;
}

/**
 * Watches one viewing session (the video element plus whichever hls.js instance currently drives
 * it) and turns hls.js and media events into a QoeSnapshot. A session survives the page replacing
 * its hls.js instance during recovery, so a stall that spans the replacement is one stall.
 */
export class QoeCollector {
  readonly #video: HTMLVideoElement;
  readonly #now: () => number;
  readonly #clock: StallClock;
  #hls: Hls | null = null;
  #assetId: string | null = null;
  #masterUrl: string | null = null;
  #route: QoeSnapshot['route'] = null;
  #servedBy: string | null = null;
  #edgesSeen = new Set<string>();
  #edgeChanges: EdgeChange[] = [];
  #pathway: string | null = null;
  #pathwayPriority: string[] | null = null;
  #pathwayChanges: EdgeChange[] = [];
  #steeringManifestLoads = 0;
  #cache = { hits: 0, misses: 0, unknown: 0 };
  #fragments = { loaded: 0, failed: 0, bytes: 0 };
  #errors: ErrorRecord[] = [];
  #fatalError: string | null = null;
  #recoveries = 0;

  constructor(video: HTMLVideoElement, now: () => number = () => performance.now()) {
    this.#video = video;
    this.#now = now;
    this.#clock = new StallClock(now);
    video.addEventListener('playing', () => this.#clock.firstFrame(video.currentTime));
    video.addEventListener('waiting', () => {
      if (!video.seeking) this.#clock.waiting();
    });
    video.addEventListener('pause', () => this.#clock.paused());
  }

  /** A new asset starts: every counter starts from zero. */
  beginSession(assetId: string, masterUrl: string): void {
    this.#assetId = assetId;
    this.#masterUrl = masterUrl;
    this.#route = null;
    this.#servedBy = null;
    this.#edgesSeen = new Set();
    this.#edgeChanges = [];
    this.#pathway = null;
    this.#pathwayPriority = null;
    this.#pathwayChanges = [];
    this.#steeringManifestLoads = 0;
    this.#cache = { hits: 0, misses: 0, unknown: 0 };
    this.#fragments = { loaded: 0, failed: 0, bytes: 0 };
    this.#errors = [];
    this.#fatalError = null;
    this.#recoveries = 0;
    this.#clock.loadStarted();
  }

  /** Follows an hls.js instance; call again with its replacement after a recovery. */
  attach(hls: Hls): void {
    this.#hls = hls;
    this.#fatalError = null;
    hls.on(Hls.Events.MANIFEST_LOADED, (_event, data) => this.#onManifestLoaded(data));
    hls.on(Hls.Events.STEERING_MANIFEST_LOADED, (_event, data) => this.#onSteeringManifest(data));
    hls.on(Hls.Events.MANIFEST_PARSED, () => this.#updatePathway());
    hls.on(Hls.Events.LEVELS_UPDATED, () => this.#updatePathway());
    hls.on(Hls.Events.LEVEL_SWITCHED, () => this.#updatePathway());
    hls.on(Hls.Events.FRAG_LOADED, (_event, data) => this.#onFragmentLoaded(data));
    hls.on(Hls.Events.ERROR, (_event, data) => this.#onError(data));
  }

  /** Samples the playhead for stall accounting; call a few times a second. */
  sample(): void {
    const { currentTime, paused, ended } = this.#video;
    this.#clock.sample({ currentTime, paused, ended });
  }

  recordRecovery(): void {
    this.#recoveries++;
  }

  snapshot(): QoeSnapshot {
    const hls = this.#hls;
    const video = this.#video;
    const quality = typeof video.getVideoPlaybackQuality === 'function' ? video.getVideoPlaybackQuality() : null;
    const stalls = this.#clock.snapshot();
    return {
      assetId: this.#assetId,
      masterUrl: this.#masterUrl,
      route: this.#route,
      state: this.#state(stalls.stalled),
      currentTime: video.currentTime,
      servedBy: this.#servedBy,
      edgesSeen: [...this.#edgesSeen],
      edgeChanges: [...this.#edgeChanges],
      pathway: this.#pathway,
      pathwayPriority: this.#pathwayPriority ? [...this.#pathwayPriority] : null,
      pathwayChanges: [...this.#pathwayChanges],
      steeringManifestLoads: this.#steeringManifestLoads,
      cache: { ...this.#cache },
      level: hls ? this.#level(hls) : null,
      bandwidthEstimateBps: hls && Number.isFinite(hls.bandwidthEstimate) ? Math.round(hls.bandwidthEstimate) : null,
      bufferAheadS: bufferAhead(video),
      live: hls ? liveLatency(hls, video) : null,
      stalls,
      frames: { dropped: quality?.droppedVideoFrames ?? 0, total: quality?.totalVideoFrames ?? 0 },
      fragments: { ...this.#fragments },
      errors: [...this.#errors],
      fatalError: this.#fatalError,
      recoveries: this.#recoveries,
      updatedAtMs: this.#now(),
    };
  }

  #state(stalled: boolean): PlaybackState {
    const video = this.#video;
    if (this.#fatalError !== null) return 'error';
    if (this.#assetId === null) return 'idle';
    if (video.ended) return 'ended';
    if (this.#clock.snapshot().startupMs === null) return 'loading';
    if (video.paused) return 'paused';
    return stalled ? 'stalled' : 'playing';
  }

  #level(hls: Hls): LevelSnapshot | null {
    const index = hls.currentLevel;
    const level = hls.levels[index];
    if (index < 0 || !level) return null;
    return { index, height: level.height || null, bitrateBps: level.bitrate || null };
  }

  #onManifestLoaded(data: ManifestLoadedData): void {
    if (data.contentSteering) {
      this.#route = 'steering';
      return;
    }
    const finalUrl = responseUrl(data.networkDetails);
    const requested = this.#masterUrl;
    this.#route = finalUrl && requested && new URL(finalUrl).origin !== new URL(requested).origin ? 'redirect' : 'direct';
  }

  #onSteeringManifest(data: SteeringManifestLoadedData): void {
    this.#steeringManifestLoads++;
    const priority = data.steeringManifest['PATHWAY-PRIORITY'];
    this.#pathwayPriority = Array.isArray(priority) ? priority.filter((id) => typeof id === 'string') : null;
  }

  #updatePathway(): void {
    const hls = this.#hls;
    if (!hls) return;
    const current = hls.levels[Math.max(hls.currentLevel, 0)]?.pathwayId;
    if (!current || current === NO_PATHWAY || current === this.#pathway) return;
    pushBounded(this.#pathwayChanges, { atMs: this.#now(), from: this.#pathway, to: current }, MAX_CHANGES);
    this.#pathway = current;
  }

  #onFragmentLoaded(data: FragLoadedData): void {
    this.#fragments.loaded++;
    // The payload itself has been handed to the transmuxing worker by now; the stats keep its size.
    this.#fragments.bytes += (data.part ?? data.frag).stats.loaded;
    this.#cache[CACHE_COUNTERS[cacheOutcome(readResponseHeader(data.networkDetails, 'Cache-Status'))]]++;
    const servedBy = readResponseHeader(data.networkDetails, 'X-Served-By')?.trim();
    if (!servedBy) return;
    this.#edgesSeen.add(servedBy);
    if (servedBy !== this.#servedBy) {
      pushBounded(this.#edgeChanges, { atMs: this.#now(), from: this.#servedBy, to: servedBy }, MAX_CHANGES);
      this.#servedBy = servedBy;
    }
  }

  #onError(data: ErrorData): void {
    if (FRAGMENT_LOAD_FAILURES.has(data.details)) this.#fragments.failed++;
    const url = data.frag?.url ?? data.url ?? data.context?.url ?? null;
    pushBounded(
      this.#errors,
      { atMs: this.#now(), type: data.type, details: data.details, fatal: data.fatal, url, responseCode: data.response?.code ?? null },
      MAX_ERRORS,
    );
    if (data.fatal) this.#fatalError = `${data.type}: ${data.details}`;
  }
}
