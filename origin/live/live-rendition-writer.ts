// Publishes one live rendition into the directory the origins serve: a finished segment is renamed
// in under its never-reused name, then the playlist is replaced atomically (temp file + rename), so
// a reader sees the old playlist or the new one and never a listed segment that is not complete.
// Segments that left the window are deleted only after RFC 8216 §6.2.2's grace period.
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  appendSegment, emptyWindow, evictionGraceMs, nextMsn, renderLivePlaylist, restoreWindow,
  type LivePlaylistWindow, type LiveSegmentEntry,
} from './live-playlist-window.js';

export const PLAYLIST_NAME = 'index.m3u8';
const SEGMENT_FILE = /^seg-(0|[1-9]\d{0,14})\.ts$/;

export interface LiveRenditionWriterOptions {
  readonly dir: string;
  readonly targetDuration: number;
  readonly windowSize: number;
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
  /** Deletes the evicted segments whose grace period has ended. */
  sweep(): Promise<void>;
}

/** Writes `text` to `path` so that readers only ever see a complete file. */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, text);
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
  let window = previous === undefined ? emptyWindow(options.targetDuration, options.windowSize) : restoreWindow(previous, options.targetDuration, options.windowSize);
  // A lost playlist must not make numbers repeat: continue after the highest segment file present.
  const files = await readdir(options.dir);
  const highest = Math.max(-1, ...files.map((name) => SEGMENT_FILE.exec(name)?.[1]).filter((msn) => msn !== undefined).map(Number));
  if (highest >= nextMsn(window)) window = emptyWindow(options.targetDuration, options.windowSize, highest + 1);
  let discontinuityNext = window.segments.length > 0;
  let runEndMs: number | undefined;
  const deletions = new Map<string, number>();
  const listed = new Set(window.segments.map((segment) => segment.uri));
  const graceEnds = clock() + evictionGraceMs(window);
  for (const name of files) {
    if ((SEGMENT_FILE.test(name) && !listed.has(name)) || name.startsWith(`${PLAYLIST_NAME}.tmp-`)) deletions.set(name, graceEnds);
  }

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
      const graceMs = evictionGraceMs(window);
      for (const evicted of appended.evicted) deletions.set(evicted.uri, now + graceMs);
      await sweep();
      return entry;
    },
    sweep,
  };
}
