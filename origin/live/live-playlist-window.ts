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
}

export function emptyWindow(targetDuration: number, size: number, firstMsn = 0): LivePlaylistWindow {
  if (!Number.isInteger(targetDuration) || targetDuration < 1) throw new TypeError(`live window: target duration must be a whole number ≥ 1, got ${targetDuration}`);
  if (!Number.isInteger(size) || size < 1) throw new TypeError(`live window: size must be a whole number ≥ 1, got ${size}`);
  if (!Number.isSafeInteger(firstMsn) || firstMsn < 0) throw new TypeError(`live window: bad first media sequence number ${firstMsn}`);
  return { targetDuration, size, mediaSequence: firstMsn, discontinuitySequence: 0, segments: [] };
}

/** The media sequence number the next appended segment gets. */
export function nextMsn(window: LivePlaylistWindow): number {
  return window.mediaSequence + window.segments.length;
}

export const segmentUri = (msn: number): string => `seg-${msn}.ts`;

export interface AppendResult {
  readonly window: LivePlaylistWindow;
  /** Segments that left the window: delete them once no playlist that listed them can be in use. */
  readonly evicted: readonly LiveSegmentEntry[];
}

export function appendSegment(
  window: LivePlaylistWindow,
  segment: { readonly durationMs: number; readonly programDateTimeMs: number; readonly discontinuity: boolean },
): AppendResult {
  if (!Number.isInteger(segment.durationMs) || segment.durationMs <= 0) throw new TypeError(`live window: bad segment duration ${segment.durationMs}`);
  const msn = nextMsn(window);
  const all = [...window.segments, { msn, uri: segmentUri(msn), ...segment }];
  const evicted = all.slice(0, Math.max(0, all.length - window.size));
  const segments = all.slice(evicted.length);
  return {
    window: {
      ...window,
      mediaSequence: segments[0]!.msn,
      discontinuitySequence: window.discontinuitySequence + evicted.filter((entry) => entry.discontinuity).length,
      segments,
    },
    evicted,
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

export function renderLivePlaylist(window: LivePlaylistWindow): string {
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${effectiveTargetDuration(window)}`,
    `#EXT-X-MEDIA-SEQUENCE:${window.mediaSequence}`,
    `#EXT-X-DISCONTINUITY-SEQUENCE:${window.discontinuitySequence}`,
    '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  for (const segment of window.segments) {
    if (segment.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(
      `#EXT-X-PROGRAM-DATE-TIME:${new Date(segment.programDateTimeMs).toISOString()}`,
      `#EXTINF:${(segment.durationMs / 1000).toFixed(3)},`,
      segment.uri,
    );
  }
  return `${lines.join('\n')}\n`;
}

const integerTag = (text: string, tag: string): number | undefined => {
  const match = new RegExp(`^#${tag}:(\\d{1,15})[ \\t]*$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
};

/**
 * The window a playlist written by renderLivePlaylist describes, resized to `size` (the oldest go
 * if it shrank). Throws on anything else: a restarted encoder must not guess its numbering.
 */
export function restoreWindow(text: string, targetDuration: number, size: number): LivePlaylistWindow {
  if (!text.startsWith('#EXTM3U')) throw new Error('not an HLS playlist (missing #EXTM3U)');
  const mediaSequence = integerTag(text, 'EXT-X-MEDIA-SEQUENCE');
  if (mediaSequence === undefined) throw new Error('no #EXT-X-MEDIA-SEQUENCE');
  let window: LivePlaylistWindow = { ...emptyWindow(targetDuration, Number.MAX_SAFE_INTEGER, mediaSequence), discontinuitySequence: integerTag(text, 'EXT-X-DISCONTINUITY-SEQUENCE') ?? 0 };
  let pending: { durationMs?: number; programDateTimeMs?: number; discontinuity: boolean } = { discontinuity: false };
  for (const line of text.split('\n').map((raw) => raw.trim())) {
    if (line === '#EXT-X-DISCONTINUITY') pending.discontinuity = true;
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) pending.programDateTimeMs = Date.parse(line.slice('#EXT-X-PROGRAM-DATE-TIME:'.length));
    else if (line.startsWith('#EXTINF:')) pending.durationMs = Math.round(Number(line.slice('#EXTINF:'.length).split(',')[0]) * 1000);
    else if (line !== '' && !line.startsWith('#')) {
      const { durationMs, programDateTimeMs } = pending;
      if (durationMs === undefined || !(durationMs > 0) || programDateTimeMs === undefined || Number.isNaN(programDateTimeMs)) {
        throw new Error(`segment ${line.slice(0, 60)} lacks a duration or a program date-time`);
      }
      if (line !== segmentUri(nextMsn(window))) throw new Error(`segment ${line.slice(0, 60)} is not ${segmentUri(nextMsn(window))}`);
      window = appendSegment(window, { durationMs, programDateTimeMs, discontinuity: pending.discontinuity }).window;
      pending = { discontinuity: false };
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
  };
}
