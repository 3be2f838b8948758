// The sliding window of one live rendition as pure data: segments go in at the live edge, the
// oldest fall out, and the playlist text is rendered from it. The encoder's writer keeps one per
// rendition; restoring it from the playlist on disk lets a restarted encoder carry on numbering.

export interface LiveSegmentEntry {
  /** Media sequence number: never reused for a channel, so a cached seg-<msn> is always right. */
  readonly msn: number;
  readonly uri: string;
  readonly durationMs: number;
  /** When the segment's first frame was captured (EXT-X-PROGRAM-DATE-TIME). */
  readonly programDateTimeMs: number;
  /** Timestamps restart here (a new encoder run): EXT-X-DISCONTINUITY precedes it. */
  readonly discontinuity: boolean;
  /** Its LL-HLS parts, in order (none in a plain window); the segment is their concatenation. */
  readonly parts: readonly LivePartEntry[];
}

/** One LL-HLS partial segment (draft-pantos-hls-rfc8216bis §4.4.4.9). */
export interface LivePartEntry {
  readonly uri: string;
  readonly durationMs: number;
  /** Starts with a sync sample (EXT-X-PART INDEPENDENT=YES). */
  readonly independent: boolean;
}

/** What a Low-Latency HLS window adds: CMAF parts, and the segment whose parts are being written. */
export interface LowLatencyState {
  /** PART-TARGET in ms: at least every part's duration. */
  readonly partTargetMs: number;
  /** The segment in progress (MSN nextMsn(window)): its program date-time and parts so far. */
  readonly inProgress: { readonly programDateTimeMs: number; readonly discontinuity: boolean; readonly parts: readonly LivePartEntry[] } | undefined;
}

export interface LivePlaylistWindow {
  /** Configured target duration in whole seconds; rendering raises it if a segment is longer. */
  readonly targetDuration: number;
  readonly size: number;
  /** MSN of the first segment in the window; when empty, of the next segment to come. */
  readonly mediaSequence: number;
  /** Discontinuities that have slid out of the window (RFC 8216 §6.2.2). */
  readonly discontinuitySequence: number;
  readonly segments: readonly LiveSegmentEntry[];
  /** Present in a Low-Latency (CMAF fMP4) window; a plain window has MPEG-TS segments. */
  readonly lowLatency?: LowLatencyState;
}

/** LL-HLS playlists list parts for at least this many target durations behind the live edge. */
export const PART_LISTING_TARGET_DURATIONS = 3;
/** Part files a Low-Latency rendition holds besides its segments: `init.mp4` and `seg-<msn>.<part>.m4s`. */
export const INIT_SEGMENT = 'init.mp4';

export function emptyWindow(targetDuration: number, size: number, firstMsn = 0, partTargetMs?: number): LivePlaylistWindow {
  if (!Number.isInteger(targetDuration) || targetDuration < 1) throw new TypeError(`live window: target duration must be a whole number ≥ 1, got ${targetDuration}`);
  if (!Number.isInteger(size) || size < 1) throw new TypeError(`live window: size must be a whole number ≥ 1, got ${size}`);
  if (!Number.isSafeInteger(firstMsn) || firstMsn < 0) throw new TypeError(`live window: bad first media sequence number ${firstMsn}`);
  if (partTargetMs !== undefined && (!Number.isInteger(partTargetMs) || partTargetMs < 1 || partTargetMs > targetDuration * 1000)) {
    throw new TypeError(`live window: part target must be 1 ms to the target duration, got ${partTargetMs}`);
  }
  const window = { targetDuration, size, mediaSequence: firstMsn, discontinuitySequence: 0, segments: [] };
  return partTargetMs === undefined ? window : { ...window, lowLatency: { partTargetMs, inProgress: undefined } };
}

/** The media sequence number the next appended segment gets. */
export function nextMsn(window: LivePlaylistWindow): number {
  return window.mediaSequence + window.segments.length;
}

export const segmentUri = (msn: number, lowLatency = false): string => `seg-${msn}.${lowLatency ? 'm4s' : 'ts'}`;
export const partUri = (msn: number, part: number): string => `seg-${msn}.${part}.m4s`;

export interface AppendResult {
  readonly window: LivePlaylistWindow;
  /** Segments that left the window: delete them once no playlist that listed them can be in use. */
  readonly evicted: readonly LiveSegmentEntry[];
}

export function appendSegment(
  window: LivePlaylistWindow,
  segment: { readonly durationMs: number; readonly programDateTimeMs: number; readonly discontinuity: boolean; readonly parts?: readonly LivePartEntry[] },
): AppendResult {
  if (!Number.isInteger(segment.durationMs) || segment.durationMs <= 0) throw new TypeError(`live window: bad segment duration ${segment.durationMs}`);
  const msn = nextMsn(window);
  const all = [...window.segments, { msn, uri: segmentUri(msn, window.lowLatency !== undefined), parts: [], ...segment }];
  const evicted = all.slice(0, Math.max(0, all.length - window.size));
  const segments = all.slice(evicted.length);
  return {
    window: {
      ...window,
      mediaSequence: segments[0]!.msn,
      discontinuitySequence: window.discontinuitySequence + evicted.filter((entry) => entry.discontinuity).length,
      segments,
      ...(window.lowLatency && { lowLatency: { ...window.lowLatency, inProgress: undefined } }),
    },
    evicted,
  };
}

/**
 * Adds a part to a Low-Latency window. A part that starts a segment first closes the one in
 * progress (its parts become a segment); the first part of a segment must be independent.
 */
export function appendPart(
  window: LivePlaylistWindow,
  part: { readonly durationMs: number; readonly independent: boolean; readonly startsSegment: boolean; readonly programDateTimeMs: number; readonly discontinuity: boolean },
): AppendResult & { readonly part: LivePartEntry; readonly closed: LiveSegmentEntry | undefined } {
  if (!window.lowLatency) throw new TypeError('live window: parts need a Low-Latency window');
  if (!Number.isInteger(part.durationMs) || part.durationMs <= 0) throw new TypeError(`live window: bad part duration ${part.durationMs}`);
  let result: AppendResult = { window, evicted: [] };
  let closed: LiveSegmentEntry | undefined;
  const open = window.lowLatency.inProgress;
  if (part.startsSegment && open) {
    result = appendSegment(window, { durationMs: open.parts.reduce((total, entry) => total + entry.durationMs, 0), programDateTimeMs: open.programDateTimeMs, discontinuity: open.discontinuity, parts: open.parts });
    closed = result.window.segments[result.window.segments.length - 1];
  } else if (!open && !part.independent) {
    throw new TypeError('live window: a segment must start with an independent part');
  }
  const current = result.window.lowLatency!.inProgress ?? { programDateTimeMs: part.programDateTimeMs, discontinuity: part.discontinuity, parts: [] };
  const entry: LivePartEntry = { uri: partUri(nextMsn(result.window), current.parts.length), durationMs: part.durationMs, independent: part.independent };
  return {
    window: { ...result.window, lowLatency: { ...result.window.lowLatency!, inProgress: { ...current, parts: [...current.parts, entry] } } },
    evicted: result.evicted,
    part: entry,
    closed,
  };
}

/** RFC 8216 §4.3.3.1: every EXTINF, rounded, fits within the target duration. */
export function effectiveTargetDuration(window: LivePlaylistWindow): number {
  return Math.max(window.targetDuration, ...window.segments.map((segment) => Math.round(segment.durationMs / 1000)));
}

/** Playlist duration plus a segment: how long an evicted segment must stay (RFC 8216 §6.2.2). */
export function evictionGraceMs(window: LivePlaylistWindow): number {
  return window.segments.reduce((total, segment) => total + segment.durationMs, 0) + effectiveTargetDuration(window) * 1000;
}

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

/** Server control of a Low-Latency playlist: the hold-back and skip distances the spec minimums ask for. */
export function serverControl(targetDuration: number, partTargetMs: number): { readonly partHoldBackMs: number; readonly canSkipUntilMs: number } {
  return { partHoldBackMs: 3 * partTargetMs, canSkipUntilMs: 6 * targetDuration * 1000 };
}

/** Where another rendition of the channel is (EXT-X-RENDITION-REPORT, §4.4.5.4): lets a player switch without a reload first. */
export interface RenditionReport {
  /** Relative to this playlist, e.g. ../480p/index.m3u8 */
  readonly uri: string;
  readonly lastMsn: number;
  readonly lastPart: number;
}

/** A Low-Latency window's report: its last segment or part (the segment in progress counts). */
export function renditionReportOf(uri: string, window: LivePlaylistWindow): RenditionReport | undefined {
  const open = window.lowLatency?.inProgress;
  if (open) return { uri, lastMsn: nextMsn(window), lastPart: open.parts.length - 1 };
  const last = window.segments[window.segments.length - 1];
  return last && { uri, lastMsn: last.msn, lastPart: last.parts.length - 1 };
}

const partLine = (part: LivePartEntry): string => `#EXT-X-PART:DURATION=${seconds(part.durationMs)},URI="${part.uri}"${part.independent ? ',INDEPENDENT=YES' : ''}`;

export function renderLivePlaylist(window: LivePlaylistWindow, reports: readonly RenditionReport[] = []): string {
  const targetDuration = effectiveTargetDuration(window);
  const low = window.lowLatency;
  const lines = ['#EXTM3U', `#EXT-X-VERSION:${low ? 9 : 3}`, `#EXT-X-TARGETDURATION:${targetDuration}`];
  if (low) {
    const control = serverControl(targetDuration, low.partTargetMs);
    lines.push(
      `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${seconds(control.partHoldBackMs)},CAN-SKIP-UNTIL=${seconds(control.canSkipUntilMs)}`,
      `#EXT-X-PART-INF:PART-TARGET=${seconds(low.partTargetMs)}`,
    );
  }
  lines.push(`#EXT-X-MEDIA-SEQUENCE:${window.mediaSequence}`, `#EXT-X-DISCONTINUITY-SEQUENCE:${window.discontinuitySequence}`, '#EXT-X-INDEPENDENT-SEGMENTS');
  if (low) lines.push(`#EXT-X-MAP:URI="${INIT_SEGMENT}"`);
  // Parts are listed for the segments ending within the last few target durations, and the one in progress.
  const inProgressMs = low?.inProgress?.parts.reduce((total, part) => total + part.durationMs, 0) ?? 0;
  let fromEndMs = inProgressMs + window.segments.reduce((total, segment) => total + segment.durationMs, 0);
  for (const segment of window.segments) {
    fromEndMs -= segment.durationMs;
    if (segment.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(segment.programDateTimeMs).toISOString()}`);
    if (fromEndMs < PART_LISTING_TARGET_DURATIONS * targetDuration * 1000) lines.push(...segment.parts.map(partLine));
    lines.push(`#EXTINF:${seconds(segment.durationMs)},`, segment.uri);
  }
  if (low) {
    const open = low.inProgress;
    const msn = nextMsn(window);
    if (open) {
      if (open.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
      lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(open.programDateTimeMs).toISOString()}`, ...open.parts.map(partLine));
    }
    // The next part starts the next segment once this one is a target duration long (less half a
    // part: the writer's rule), so the hint names the part that will really come.
    const segmentFull = inProgressMs >= targetDuration * 1000 - low.partTargetMs / 2;
    lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${segmentFull ? partUri(msn + 1, 0) : partUri(msn, open?.parts.length ?? 0)}"`);
    lines.push(...reports.map((report) => `#EXT-X-RENDITION-REPORT:URI="${report.uri}",LAST-MSN=${report.lastMsn},LAST-PART=${report.lastPart}`));
  }
  return `${lines.join('\n')}\n`;
}

const integerTag = (text: string, tag: string): number | undefined => {
  const match = new RegExp(`^#${tag}:(\\d{1,15})[ \\t]*$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
};

/** Whether a playlist was written for a Low-Latency window (restoring across modes is refused). */
export const isLowLatencyPlaylist = (text: string): boolean => /^#EXT-X-PART-INF:/m.test(text);

/**
 * The window a playlist written by renderLivePlaylist describes, resized to `size` (the oldest go
 * if it shrank). Throws on anything else: a restarted encoder must not guess its numbering. The
 * parts of a segment left unfinished are dropped: the next run starts a new segment.
 */
export function restoreWindow(text: string, targetDuration: number, size: number, partTargetMs?: number): LivePlaylistWindow {
  if (!text.startsWith('#EXTM3U')) throw new Error('not an HLS playlist (missing #EXTM3U)');
  if (isLowLatencyPlaylist(text) !== (partTargetMs !== undefined)) throw new Error(`not a ${partTargetMs === undefined ? 'plain' : 'Low-Latency'} live playlist`);
  const mediaSequence = integerTag(text, 'EXT-X-MEDIA-SEQUENCE');
  if (mediaSequence === undefined) throw new Error('no #EXT-X-MEDIA-SEQUENCE');
  let window: LivePlaylistWindow = { ...emptyWindow(targetDuration, Number.MAX_SAFE_INTEGER, mediaSequence, partTargetMs), discontinuitySequence: integerTag(text, 'EXT-X-DISCONTINUITY-SEQUENCE') ?? 0 };
  let pending: { durationMs?: number; programDateTimeMs?: number; discontinuity: boolean; parts: LivePartEntry[] } = { discontinuity: false, parts: [] };
  for (const line of text.split('\n').map((raw) => raw.trim())) {
    if (line === '#EXT-X-DISCONTINUITY') pending.discontinuity = true;
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) pending.programDateTimeMs = Date.parse(line.slice('#EXT-X-PROGRAM-DATE-TIME:'.length));
    else if (line.startsWith('#EXTINF:')) pending.durationMs = Math.round(Number(line.slice('#EXTINF:'.length).split(',')[0]) * 1000);
    else if (line.startsWith('#EXT-X-PART:')) {
      const match = /^#EXT-X-PART:DURATION=(\d+(?:\.\d+)?),URI="([^"]+)"(,INDEPENDENT=YES)?$/.exec(line);
      const expected = partUri(nextMsn(window), pending.parts.length);
      if (!match || match[2] !== expected) throw new Error(`part line ${line.slice(0, 80)} is not one for ${expected}`);
      pending.parts.push({ uri: expected, durationMs: Math.round(Number(match[1]) * 1000), independent: match[3] !== undefined });
    } else if (line !== '' && !line.startsWith('#')) {
      const { durationMs, programDateTimeMs } = pending;
      if (durationMs === undefined || !(durationMs > 0) || programDateTimeMs === undefined || Number.isNaN(programDateTimeMs)) {
        throw new Error(`segment ${line.slice(0, 60)} lacks a duration or a program date-time`);
      }
      const expected = segmentUri(nextMsn(window), partTargetMs !== undefined);
      if (line !== expected) throw new Error(`segment ${line.slice(0, 60)} is not ${expected}`);
      window = appendSegment(window, { durationMs, programDateTimeMs, discontinuity: pending.discontinuity, parts: pending.parts }).window;
      pending = { discontinuity: false, parts: [] };
    }
  }
  // Shrinking to `size` counts the discontinuities that slide out, as appending would have.
  const evicted = window.segments.slice(0, Math.max(0, window.segments.length - size));
  const segments = window.segments.slice(evicted.length);
  return {
    targetDuration,
    size,
    mediaSequence: segments[0]?.msn ?? nextMsn(window),
    discontinuitySequence: window.discontinuitySequence + evicted.filter((entry) => entry.discontinuity).length,
    segments,
    ...(window.lowLatency && { lowLatency: window.lowLatency }),
  };
}
