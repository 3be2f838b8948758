// What an origin needs to know about a Low-Latency media playlist to answer blocking reloads,
// preload-hinted part requests and delta updates (draft-pantos-hls-rfc8216bis §6.2.5), read from
// the playlist text the encoder wrote (every replica reads the same shared file).
import { attributeValue, parseAttributeList } from '../../infra/hls/playlist-attributes.js';

export interface LowLatencyPlaylistState {
  readonly targetDuration: number;
  readonly mediaSequence: number;
  /** MSN of the last complete segment (mediaSequence - 1 while none is). */
  readonly lastMsn: number;
  /** Parts listed for the segment in progress (MSN lastMsn + 1). */
  readonly inProgressParts: number;
  /** The part named by EXT-X-PRELOAD-HINT, if any. */
  readonly hint: { readonly msn: number; readonly part: number } | undefined;
  /** CAN-SKIP-UNTIL in ms. */
  readonly canSkipUntilMs: number;
}

const PART_URI = /^seg-(0|[1-9]\d{0,14})\.(0|[1-9]\d{0,5})\.m4s$/;

/** `seg-<msn>.<part>.m4s` → its numbers, or undefined for any other name. */
export function parsePartUri(uri: string): { readonly msn: number; readonly part: number } | undefined {
  const match = PART_URI.exec(uri);
  return match ? { msn: Number(match[1]), part: Number(match[2]) } : undefined;
}

/** An attribute of a tag line (`#TAG:A=1,B="x"`); undefined when absent or the list is malformed. */
function attribute(line: string, name: string): string | undefined {
  try {
    return attributeValue(parseAttributeList(line.slice(line.indexOf(':') + 1)), name);
  } catch {
    return undefined;
  }
}

/** The state of a Low-Latency playlist, or undefined for a playlist without EXT-X-PART-INF. */
export function readLowLatencyState(text: string): LowLatencyPlaylistState | undefined {
  if (!/^#EXT-X-PART-INF:/m.test(text)) return undefined;
  let mediaSequence = 0;
  let targetDuration = 0;
  let canSkipUntilMs = 0;
  let segments = 0;
  let partsSinceSegment = 0;
  let hint: LowLatencyPlaylistState['hint'];
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) mediaSequence = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-TARGETDURATION:')) targetDuration = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-SERVER-CONTROL:')) canSkipUntilMs = Math.round(Number(attribute(line, 'CAN-SKIP-UNTIL') ?? 0) * 1000);
    else if (line.startsWith('#EXT-X-PART:')) partsSinceSegment++;
    else if (line.startsWith('#EXT-X-PRELOAD-HINT:')) hint = parsePartUri(attribute(line, 'URI') ?? '');
    else if (line !== '' && !line.startsWith('#')) {
      segments++;
      partsSinceSegment = 0;
    }
  }
  if (!Number.isSafeInteger(mediaSequence) || !(targetDuration > 0)) return undefined;
  return { targetDuration, mediaSequence, lastMsn: mediaSequence + segments - 1, inProgressParts: partsSinceSegment, hint, canSkipUntilMs };
}

/**
 * Whether the playlist holds segment `msn` (whole), or its part `part`: a complete segment holds
 * every part of it (§6.2.5.2: a part index past the segment's last is satisfied by the segment).
 */
export function playlistHas(state: LowLatencyPlaylistState, msn: number, part?: number): boolean {
  if (msn <= state.lastMsn) return true;
  return part !== undefined && msn === state.lastMsn + 1 && part < state.inProgressParts;
}

/** A part worth holding a request for: the one hinted, or the one right after it. */
export function isUpcomingPart(state: LowLatencyPlaylistState, msn: number, part: number): boolean {
  const hint = state.hint;
  if (!hint) return false;
  return (msn === hint.msn && (part === hint.part || part === hint.part + 1)) || (msn === hint.msn + 1 && part === 0);
}

/**
 * A delta update (§4.4.5.2, §6.2.5.1): the segments that end at least CAN-SKIP-UNTIL before the
 * end of the playlist are replaced by one EXT-X-SKIP. Undefined when no segment can be skipped.
 */
export function renderDeltaUpdate(text: string, state: LowLatencyPlaylistState): string | undefined {
  const lines = text.split('\n');
  const firstSegmentLine = lines.findIndex((line) => /^#(EXTINF|EXT-X-PART:|EXT-X-PROGRAM-DATE-TIME|EXT-X-DISCONTINUITY$)/.test(line));
  if (firstSegmentLine === -1) return undefined;
  // Each segment's lines run to its URI line; what follows the last is the segment in progress.
  const blocks: { lines: string[]; durationMs: number }[] = [];
  let current: string[] = [];
  let durationMs = 0;
  let totalMs = 0;
  for (const line of lines.slice(firstSegmentLine)) {
    current.push(line);
    if (line.startsWith('#EXTINF:')) durationMs = Math.round(Number(line.slice(8).split(',')[0]) * 1000);
    else if (line.startsWith('#EXT-X-PART:') && blocks.length === state.lastMsn - state.mediaSequence + 1) totalMs += Math.round(Number(attribute(line, 'DURATION') ?? 0) * 1000);
    else if (line !== '' && !line.startsWith('#')) {
      blocks.push({ lines: current, durationMs });
      totalMs += durationMs;
      current = [];
    }
  }
  let skipped = 0;
  for (let endMs = 0; skipped < blocks.length; skipped++) {
    endMs += blocks[skipped]!.durationMs;
    if (totalMs - endMs < state.canSkipUntilMs) break;
  }
  if (skipped === 0) return undefined;
  return [...lines.slice(0, firstSegmentLine), `#EXT-X-SKIP:SKIPPED-SEGMENTS=${skipped}`, ...blocks.slice(skipped).flatMap((block) => block.lines), ...current].join('\n');
}
