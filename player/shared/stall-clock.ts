/**
 * Rebuffering as viewers feel it: time during which the playhead should have been moving (playback
 * had begun, not paused, not ended) but stood still. The wait before the first frame is startup
 * time, not a stall.
 *
 * Media events alone undercount: after a player-initiated seek (hls.js jumping back into a live
 * window, or over a gap) Chromium fires `waiting` only while seeking, and nothing when the seek
 * lands where no data is. So the clock is driven by regular playhead samples, with the `waiting`
 * event only sharpening when a stall began.
 */
export interface StallSnapshot {
  /** Milliseconds from the load request to the first frame, once known. */
  readonly startupMs: number | null;
  readonly count: number;
  /** Total stalled time, including a stall still in progress. */
  readonly totalMs: number;
  /** Duration of the longest single stall, including one in progress. */
  readonly longestMs: number;
  readonly stalled: boolean;
}

export interface PlayheadSample {
  /** Media time in seconds. */
  readonly currentTime: number;
  readonly paused: boolean;
  readonly ended: boolean;
}

export interface StallClockOptions {
  /** How long the playhead may stand still between samples before it counts as a stall. */
  readonly thresholdMs?: number;
}

// A playhead moving faster than this (media seconds per wall second) was moved by a seek.
const MAX_PLAYBACK_RATE = 2;
const JITTER_S = 0.25;

export class StallClock {
  readonly #now: () => number;
  readonly #thresholdMs: number;
  #loadStartedAt: number | null = null;
  #startupMs: number | null = null;
  #stalledSince: number | null = null;
  #count = 0;
  #finishedMs = 0;
  #longestMs = 0;
  #lastTime = 0;
  #lastSampleAt = 0;
  #lastProgressAt = 0;

  constructor(now: () => number, options: StallClockOptions = {}) {
    if (typeof now !== 'function') throw new TypeError('now must be a function returning milliseconds');
    const thresholdMs = options.thresholdMs ?? 500;
    if (!Number.isFinite(thresholdMs) || thresholdMs < 0) throw new TypeError(`thresholdMs must be a non-negative number, got ${thresholdMs}`);
    this.#now = now;
    this.#thresholdMs = thresholdMs;
  }

  /** A new source starts loading: forget the previous one. */
  loadStarted(): void {
    this.#loadStartedAt = this.#now();
    this.#startupMs = null;
    this.#stalledSince = null;
    this.#count = 0;
    this.#finishedMs = 0;
    this.#longestMs = 0;
  }

  /** The first frame is shown (`playing` event); later calls change nothing. */
  firstFrame(currentTime: number): void {
    if (this.#startupMs !== null || this.#loadStartedAt === null) return;
    const now = this.#now();
    this.#startupMs = now - this.#loadStartedAt;
    this.#lastTime = currentTime;
    this.#lastSampleAt = now;
    this.#lastProgressAt = now;
  }

  /** The media element waits for data (`waiting` event, not caused by seeking): a stall begins now. */
  waiting(): void {
    if (this.#startupMs !== null && this.#stalledSince === null) this.#begin(this.#now());
  }

  /** The viewer paused (`pause` event): a stall in progress ends now. */
  paused(): void {
    this.#end(this.#now());
  }

  /** Regular playhead sample, a few times a second. */
  sample(playhead: PlayheadSample): void {
    if (this.#startupMs === null) return;
    const now = this.#now();
    const advancedS = playhead.currentTime - this.#lastTime;
    const elapsedS = (now - this.#lastSampleAt) / 1000;
    const played = advancedS > 0 && advancedS <= elapsedS * MAX_PLAYBACK_RATE + JITTER_S;
    this.#lastTime = playhead.currentTime;
    this.#lastSampleAt = now;

    if (playhead.paused || playhead.ended) {
      this.#end(now);
      this.#lastProgressAt = now;
      return;
    }
    if (played) {
      // Playback resumed about as long ago as the media time it has played since.
      this.#end(Math.max(now - advancedS * 1000, this.#stalledSince ?? 0));
      this.#lastProgressAt = now;
      return;
    }
    if (this.#stalledSince === null && now - this.#lastProgressAt >= this.#thresholdMs) this.#begin(this.#lastProgressAt);
  }

  snapshot(): StallSnapshot {
    const ongoing = this.#stalledSince === null ? 0 : this.#now() - this.#stalledSince;
    return {
      startupMs: this.#startupMs,
      count: this.#count,
      totalMs: this.#finishedMs + ongoing,
      longestMs: Math.max(this.#longestMs, ongoing),
      stalled: this.#stalledSince !== null,
    };
  }

  #begin(at: number): void {
    this.#stalledSince = at;
    this.#count++;
  }

  #end(at: number): void {
    if (this.#stalledSince === null) return;
    const duration = Math.max(0, at - this.#stalledSince);
    this.#finishedMs += duration;
    this.#longestMs = Math.max(this.#longestMs, duration);
    this.#stalledSince = null;
  }
}
