/**
 * Rebuffering as viewers feel it: a stall starts when playback that had already begun waits for
 * data, and ends when frames move again. The wait before the first frame is startup time, not a
 * stall; waits caused by the viewer seeking are not stalls either.
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

export class StallClock {
  readonly #now: () => number;
  #loadStartedAt: number | null = null;
  #startupMs: number | null = null;
  #stalledSince: number | null = null;
  #count = 0;
  #finishedMs = 0;
  #longestMs = 0;

  constructor(now: () => number) {
    if (typeof now !== 'function') throw new TypeError('now must be a function returning milliseconds');
    this.#now = now;
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

  /** The media element is waiting for data (`waiting` event). */
  waiting(seeking: boolean): void {
    if (this.#startupMs === null || seeking || this.#stalledSince !== null) return;
    this.#stalledSince = this.#now();
    this.#count++;
  }

  /** Frames move (`playing` event, or currentTime advanced). */
  progressing(): void {
    const now = this.#now();
    if (this.#startupMs === null) {
      if (this.#loadStartedAt !== null) this.#startupMs = now - this.#loadStartedAt;
      return;
    }
    if (this.#stalledSince === null) return;
    const duration = now - this.#stalledSince;
    this.#finishedMs += duration;
    this.#longestMs = Math.max(this.#longestMs, duration);
    this.#stalledSince = null;
  }

  /** A seek resolves any stall without counting the time after it as rebuffering. */
  seeked(): void {
    this.progressing();
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
}
