// Segment prefetch: after a viewer asks for segment N of a rendition, the edge warms segments
// N+1…N+K so the next requests of that viewer (and of everyone behind it) are hits. The segment
// order comes from the rendition's media playlist as cached here, so it works for any naming and
// for live windows, and never guesses names that do not exist.
import type { CacheEntry } from './cache/cache-entry.js';
import type { CacheStore } from './cache/cache-store.js';
import { createMemoryStore } from './cache/memory-store.js';

const SEGMENT = /\.(ts|m4s|mp4|aac|m4a|vtt)$/i;

export function isSegmentKey(key: string): boolean {
  return SEGMENT.test(key) && !key.endsWith('/init.mp4');
}

/** `/vod/a/480p/seg-00003.ts` → `/vod/a/480p/index.m3u8` (the contract's media playlist name). */
export function mediaPlaylistKeyFor(segmentKey: string): string {
  return `${segmentKey.slice(0, segmentKey.lastIndexOf('/'))}/index.m3u8`;
}

/** A media playlist's segment targets in order, with where each one stands. */
export interface SegmentList {
  /** Segment URIs listed (its size in an index of playlists). */
  readonly size: number;
  /** The targets of the `count` segments listed after `segmentKey`; none for a name not listed. */
  next(segmentKey: string, count: number): string[];
}

/**
 * A media playlist read once: its URIs resolved against `directory` (the playlist's, ending in `/`;
 * relative URIs, absolute paths or absolute URLs). Asking for a name it does not list costs nothing.
 */
export function segmentList(playlist: string, directory: string): SegmentList {
  const uris: string[] = [];
  for (const rawLine of playlist.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    uris.push(line);
  }
  const resolve = (uri: string): string | undefined => {
    try {
      const url = new URL(uri, `http://edge${directory}`);
      return url.pathname + url.search;
    } catch {
      return undefined;
    }
  };
  const resolved = uris.map(resolve);
  // The first position a target stands at, by its full target and by its path without the query.
  const positions = new Map<string, number>();
  resolved.forEach((target, index) => {
    if (target === undefined) return;
    if (!positions.has(target)) positions.set(target, index);
    const path = target.split('?')[0]!;
    if (!positions.has(path)) positions.set(path, index);
  });
  return {
    size: resolved.length,
    next(segmentKey, count) {
      const index = positions.get(segmentKey);
      if (count <= 0 || index === undefined) return [];
      return resolved.slice(index + 1, index + 1 + count).filter((target): target is string => target !== undefined);
    },
  };
}

/** The targets of the `count` media segments listed after `segmentKey` in a media playlist. */
export function nextSegmentTargets(playlist: string, segmentKey: string, count: number): string[] {
  return segmentList(playlist, segmentKey.slice(0, segmentKey.lastIndexOf('/') + 1)).next(segmentKey, count);
}

/**
 * Parsed segment lists of cached media playlists, so a hit does not re-read the playlist text.
 * One list per playlist whatever segment names viewers ask for (a made-up name is simply not in
 * it), bounded in segments listed across playlists, least recently used first out.
 */
export interface PrefetchIndex {
  listFor(playlistKey: string, playlist: CacheEntry): SegmentList;
  /** Playlists indexed, and the segment URIs they list. */
  readonly playlists: number;
  readonly segments: number;
}

interface Indexed {
  /** The stored playlist it was read from; a newer one (live, revalidated) is read again. */
  readonly source: WeakRef<CacheEntry>;
  readonly list: SegmentList;
}

export function createPrefetchIndex(maxSegments: number): PrefetchIndex {
  if (!Number.isSafeInteger(maxSegments) || maxSegments < 1) throw new TypeError(`prefetch index: maxSegments must be a positive integer, got ${maxSegments}`);
  const lists: CacheStore<Indexed> = createMemoryStore<Indexed>({
    maxBytes: maxSegments,
    maxEntryBytes: maxSegments,
    sizeOf: (indexed) => indexed.list.size,
  });
  return {
    listFor(playlistKey, playlist) {
      const indexed = lists.get(playlistKey);
      if (indexed !== undefined && indexed.source.deref() === playlist) return indexed.list;
      const directory = playlistKey.slice(0, playlistKey.lastIndexOf('/') + 1);
      const list = segmentList(playlist.body.toString('utf8'), directory);
      // A playlist longer than the whole index is used once, not kept.
      lists.set(playlistKey, { source: new WeakRef(playlist), list });
      return list;
    },
    get playlists() {
      return lists.count;
    },
    get segments() {
      return lists.bytes;
    },
  };
}
