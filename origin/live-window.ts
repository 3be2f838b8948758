// The simulated live channel is a pure function of the wall clock: the looped source segments are
// laid end to end from a fixed epoch, so every replica computes the same window, media sequence
// numbers and program date times at the same moment, whenever it was started.

/**
 * The channel's first segment started here. Any fixed instant keeps replicas in step; a recent one
 * keeps sequence numbers small, which matters to players: hls.js 1.x indexes per-discontinuity state
 * by discontinuity number, and counting from 1970 made that ~150 million.
 */
export const LIVE_EPOCH_MS = Date.UTC(2026, 0, 1);

export interface LiveTimeline {
  /** Durations of the looped source segments, in milliseconds. */
  readonly segmentDurationsMs: readonly number[];
  readonly epochMs?: number;
}

export interface LiveSegment {
  /** Media sequence number: counts every segment since the epoch, so it only ever grows. */
  readonly msn: number;
  /** Index of the source segment this one repeats. */
  readonly sourceIndex: number;
  readonly durationMs: number;
  /** When the segment starts (EXT-X-PROGRAM-DATE-TIME). */
  readonly startMs: number;
  /** First segment of a loop: timestamps jump back, so EXT-X-DISCONTINUITY precedes it. */
  readonly discontinuity: boolean;
}

export interface LiveWindow {
  readonly mediaSequence: number;
  /** Discontinuities that have slid out of the window before its first segment. */
  readonly discontinuitySequence: number;
  readonly segments: readonly LiveSegment[];
  /** When the newest segment became available (its end): the playlist's Last-Modified. */
  readonly updatedAtMs: number;
}

interface Loop {
  readonly epochMs: number;
  readonly count: number;
  readonly loopMs: number;
  /** starts[i] = offset of segment i within a loop; starts[count] = loopMs */
  readonly starts: readonly number[];
}

function loopOf(timeline: LiveTimeline): Loop {
  const durations = timeline.segmentDurationsMs;
  if (durations.length === 0) throw new TypeError('live timeline: no segments');
  const starts = [0];
  for (const duration of durations) {
    if (!Number.isInteger(duration) || duration <= 0) throw new TypeError(`live timeline: bad segment duration ${duration}`);
    starts.push(starts[starts.length - 1]! + duration);
  }
  return { epochMs: timeline.epochMs ?? LIVE_EPOCH_MS, count: durations.length, loopMs: starts[durations.length]!, starts };
}

function segmentAt(loop: Loop, msn: number): LiveSegment {
  const round = Math.floor(msn / loop.count);
  const sourceIndex = msn - round * loop.count;
  return {
    msn,
    sourceIndex,
    durationMs: loop.starts[sourceIndex + 1]! - loop.starts[sourceIndex]!,
    startMs: loop.epochMs + round * loop.loopMs + loop.starts[sourceIndex]!,
    discontinuity: sourceIndex === 0 && round > 0,
  };
}

/** Number of segments fully produced by `nowMs` (the newest available one is this minus one). */
export function completedSegments(timeline: LiveTimeline, nowMs: number): number {
  const loop = loopOf(timeline);
  const elapsed = Math.max(0, nowMs - loop.epochMs);
  const round = Math.floor(elapsed / loop.loopMs);
  const offset = elapsed - round * loop.loopMs;
  let done = 0;
  while (done < loop.count && loop.starts[done + 1]! <= offset) done++;
  return round * loop.count + done;
}

/** The segment with this media sequence number, if it has been produced by `nowMs`. */
export function liveSegment(timeline: LiveTimeline, msn: number, nowMs: number): LiveSegment | undefined {
  if (!Number.isSafeInteger(msn) || msn < 0 || msn >= completedSegments(timeline, nowMs)) return undefined;
  return segmentAt(loopOf(timeline), msn);
}

/** The last `size` produced segments at `nowMs`. */
export function liveWindowAt(timeline: LiveTimeline, nowMs: number, size: number): LiveWindow {
  if (!Number.isInteger(size) || size < 1) throw new TypeError(`live window size must be a whole number ≥ 1, got ${size}`);
  const loop = loopOf(timeline);
  const completed = completedSegments(timeline, nowMs);
  const first = Math.max(0, completed - size);
  const segments: LiveSegment[] = [];
  for (let msn = first; msn < completed; msn++) segments.push(segmentAt(loop, msn));
  const firstSegment = segments[0] ?? segmentAt(loop, 0);
  const round = Math.floor(first / loop.count);
  // RFC 8216 §6.2.2: the count goes up when a segment carrying EXT-X-DISCONTINUITY leaves the
  // playlist, so the first segment's own tag (if any) is not counted yet.
  const discontinuitySequence = firstSegment.discontinuity ? round - 1 : round;
  const newest = segments[segments.length - 1];
  return {
    mediaSequence: first,
    discontinuitySequence,
    segments,
    updatedAtMs: newest ? newest.startMs + newest.durationMs : loop.epochMs,
  };
}

export interface LivePlaylistOptions {
  readonly targetDuration: number;
  readonly uriOf: (segment: LiveSegment) => string;
}

export function renderLivePlaylist(window: LiveWindow, options: LivePlaylistOptions): string {
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${options.targetDuration}`,
    `#EXT-X-MEDIA-SEQUENCE:${window.mediaSequence}`,
    `#EXT-X-DISCONTINUITY-SEQUENCE:${window.discontinuitySequence}`,
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  for (const segment of window.segments) {
    if (segment.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(
      `#EXT-X-PROGRAM-DATE-TIME:${new Date(segment.startMs).toISOString()}`,
      `#EXTINF:${(segment.durationMs / 1000).toFixed(3)},`,
      options.uriOf(segment),
    );
  }
  return `${lines.join('\n')}\n`;
}
