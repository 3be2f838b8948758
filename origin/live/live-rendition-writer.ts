// Publishes one live rendition into the directory the origins serve: a finished segment is renamed
// in under its never-reused name, then the playlist is replaced atomically (temp file + rename), so
// a reader sees the old playlist or the new one and never a listed segment that is not complete.
// Segments that left the window are deleted only after RFC 8216 §6.2.2's grace period.
// In Low-Latency mode the same rule holds for parts: each part file is complete before the
// playlist names it, and a segment file (its parts concatenated) before the playlist lists it.
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  appendPart, appendSegment, emptyWindow, evictionGraceMs, INIT_SEGMENT, isLowLatencyPlaylist, nextMsn, renderLivePlaylist, restoreWindow,
  type AppendResult, type LivePartEntry, type LivePlaylistWindow, type LiveSegmentEntry, type RenditionReport,
} from './live-playlist-window.js';

export const PLAYLIST_NAME = 'index.m3u8';
/** A segment (`seg-<msn>.ts|m4s`) or a part (`seg-<msn>.<part>.m4s`) file; group 1 is the MSN. */
const MEDIA_FILE = /^seg-(0|[1-9]\d{0,14})(?:\.(?:0|[1-9]\d{0,5}))?\.(?:ts|m4s)$/;

export interface LiveRenditionWriterOptions {
  readonly dir: string;
  readonly targetDuration: number;
  readonly windowSize: number;
  /** Low-Latency HLS: CMAF parts of about this length (ms) grouped into segments of the target duration. */
  readonly partTargetMs?: number;
  /** Low-Latency: the other renditions' positions, listed as EXT-X-RENDITION-REPORT in each playlist written. */
  readonly renditionReports?: () => readonly RenditionReport[];
  /** Wall clock in ms (tests drive it). */
  readonly clock?: () => number;
}

export interface LiveRenditionWriter {
  /** The window as last written. */
  readonly window: () => LivePlaylistWindow;
  /** Files waiting for their grace period to end, with the time each may go. */
  readonly pendingDeletions: () => ReadonlyMap<string, number>;
  /**
   * Moves a finished segment file in, rewrites the playlist and deletes what is due. Its program
   * date-time is `programDateTimeMs` when given (the encoder gives every rendition the same), else
   * the previous segment's end, or for the first of a run the time it finished less its duration.
   */
  publish(file: string, durationMs: number, programDateTimeMs?: number): Promise<LiveSegmentEntry>;
  /** Low-Latency: writes the CMAF init segment every part refers to (EXT-X-MAP). */
  publishInit(bytes: Buffer): Promise<void>;
  /**
   * Low-Latency: publishes one part (a moof + mdat). An independent part at least a target
   * duration (less half a part) after the start of the segment in progress closes that segment:
   * its parts, concatenated, become `seg-<msn>.m4s`. `startMs` is on the encoder's timeline.
   */
  publishPart(bytes: Buffer, part: { readonly startMs: number; readonly durationMs: number; readonly independent: boolean }, programDateTimeMs: number): Promise<LivePartEntry>;
  /** Deletes the evicted segments whose grace period has ended. */
  sweep(): Promise<void>;
}

/** Writes `data` to `path` so that readers only ever see a complete file. */
export async function writeFileAtomically(path: string, data: string | Buffer): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, data);
  await rename(temporary, path);
}

/**
 * Opens a rendition directory: an earlier run's playlist is carried on (numbering continues, and the
 * first new segment is marked as a discontinuity); segment files outside its window are scheduled
 * for deletion as if they had just been evicted.
 */
export async function openLiveRenditionWriter(options: LiveRenditionWriterOptions): Promise<LiveRenditionWriter> {
  const clock = options.clock ?? Date.now;
  const playlistPath = join(options.dir, PLAYLIST_NAME);
  const previous = await readFile(playlistPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  const { partTargetMs } = options;
  const lowLatency = partTargetMs !== undefined;
  // A playlist of the other mode (plain ↔ Low-Latency) is not carried on; numbering still continues below.
  let window =
    previous === undefined || isLowLatencyPlaylist(previous) !== lowLatency
      ? emptyWindow(options.targetDuration, options.windowSize, 0, partTargetMs)
      : restoreWindow(previous, options.targetDuration, options.windowSize, partTargetMs);
  // A lost playlist must not make numbers repeat: continue after the highest segment file present.
  const files = await readdir(options.dir);
  const highest = Math.max(-1, ...files.map((name) => MEDIA_FILE.exec(name)?.[1]).filter((msn) => msn !== undefined).map(Number));
  if (highest >= nextMsn(window)) window = emptyWindow(options.targetDuration, options.windowSize, highest + 1, partTargetMs);
  let discontinuityNext = window.segments.length > 0;
  let runEndMs: number | undefined;
  const deletions = new Map<string, number>();
  const filesOf = (segment: LiveSegmentEntry): string[] => [segment.uri, ...segment.parts.map((part) => part.uri)];
  const listed = new Set(window.segments.flatMap(filesOf));
  const graceEnds = clock() + evictionGraceMs(window);
  for (const name of files) {
    if ((MEDIA_FILE.test(name) && !listed.has(name)) || name.startsWith(`${PLAYLIST_NAME}.tmp-`)) deletions.set(name, graceEnds);
  }
  // The segment in progress (Low-Latency): where it starts on the encoder's timeline, and its parts' bytes.
  let openSegment: { startMs: number; bytes: Buffer[] } | undefined;

  const scheduleEvicted = (result: AppendResult, now: number): void => {
    const graceMs = evictionGraceMs(result.window);
    for (const evicted of result.evicted) for (const name of filesOf(evicted)) deletions.set(name, now + graceMs);
  };

  const sweep = async (): Promise<void> => {
    const now = clock();
    for (const [name, due] of deletions) {
      if (due > now) continue;
      await rm(join(options.dir, name), { force: true });
      deletions.delete(name);
    }
  };

  return {
    window: () => window,
    pendingDeletions: () => deletions,
    async publish(file, durationMs, programDateTimeMs) {
      const now = clock();
      // Contiguous within a run, so the date-times and the EXTINF durations tell the same timeline.
      const start = programDateTimeMs ?? runEndMs ?? now - durationMs;
      const appended = appendSegment(window, { durationMs, programDateTimeMs: start, discontinuity: discontinuityNext });
      const entry = appended.window.segments[appended.window.segments.length - 1]!;
      await rename(file, join(options.dir, entry.uri));
      await writeFileAtomically(playlistPath, renderLivePlaylist(appended.window));
      window = appended.window;
      discontinuityNext = false;
      runEndMs = start + durationMs;
      scheduleEvicted(appended, now);
      await sweep();
      return entry;
    },
    async publishInit(bytes) {
      if (!lowLatency) throw new TypeError('publishInit: not a Low-Latency rendition');
      await writeFileAtomically(join(options.dir, INIT_SEGMENT), bytes);
    },
    async publishPart(bytes, part, programDateTimeMs) {
      if (!lowLatency) throw new TypeError('publishPart: not a Low-Latency rendition');
      const now = clock();
      const startsSegment = part.independent && (!openSegment || part.startMs - openSegment.startMs >= options.targetDuration * 1000 - partTargetMs / 2);
      const appended = appendPart(window, { durationMs: part.durationMs, independent: part.independent, startsSegment, programDateTimeMs, discontinuity: discontinuityNext });
      if (appended.closed) await writeFileAtomically(join(options.dir, appended.closed.uri), Buffer.concat(openSegment!.bytes));
      if (startsSegment) openSegment = { startMs: part.startMs, bytes: [] };
      openSegment!.bytes.push(bytes);
      await writeFileAtomically(join(options.dir, appended.part.uri), bytes);
      await writeFileAtomically(playlistPath, renderLivePlaylist(appended.window, options.renditionReports?.() ?? []));
      window = appended.window;
      discontinuityNext = false;
      scheduleEvicted(appended, now);
      await sweep();
      return appended.part;
    },
    sweep,
  };
}
