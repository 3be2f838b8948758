import { extname } from 'node:path';

/** Freshness per object kind (DESIGN.md): immutable segments, long-lived VOD playlists, short live ones. */
export const CACHE_CONTROL = {
  segment: 'public, max-age=31536000, immutable',
  vodPlaylist: 'public, max-age=3600, stale-while-revalidate=86400',
  /**
   * About half a target duration, so a player polling every target duration sees each update.
   * LL-HLS playlists get the same: half a part target (~0.17 s) is below HTTP's one-second
   * resolution, and max-age=0 would send every edge request to the origin; LL players fetch the
   * plain playlist only to start, then use blocking reloads, so one second costs start-up only.
   */
  livePlaylist: 'public, max-age=1',
  catalog: 'public, max-age=10, stale-while-revalidate=60',
  uncacheable: 'no-store',
} as const;

/**
 * A blocking-reload answer (_HLS_msn/_HLS_part) is unique to its URL and never changes meaning, so
 * caches may keep it for six target durations (draft-pantos-hls-rfc8216bis §6.2.5.2's advice).
 */
export const blockingReloadCacheControl = (targetDuration: number): string => `public, max-age=${6 * targetDuration}`;

export const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';

const MEDIA_TYPES: Readonly<Record<string, string>> = {
  '.m3u8': PLAYLIST_TYPE,
  '.ts': 'video/mp2t',
  '.m4s': 'video/mp4',
  '.mp4': 'video/mp4',
  '.m4a': 'audio/mp4',
  '.aac': 'audio/aac',
  '.vtt': 'text/vtt; charset=utf-8',
};

/** The Content-Type of a catalog file, or undefined for names the origin never serves. */
export function mediaTypeOf(name: string): string | undefined {
  return MEDIA_TYPES[extname(name)];
}
