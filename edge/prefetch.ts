// Segment prefetch: after a viewer asks for segment N of a rendition, the edge warms segments
// N+1…N+K so the next requests of that viewer (and of everyone behind it) are hits. The segment
// order comes from the rendition's media playlist as cached here, so it works for any naming and
// for live windows, and never guesses names that do not exist.

const SEGMENT = /\.(ts|m4s|mp4|aac|m4a|vtt)$/i;

export function isSegmentKey(key: string): boolean {
  return SEGMENT.test(key) && !key.endsWith('/init.mp4');
}

/** `/vod/a/480p/seg-00003.ts` → `/vod/a/480p/index.m3u8` (the contract's media playlist name). */
export function mediaPlaylistKeyFor(segmentKey: string): string {
  return `${segmentKey.slice(0, segmentKey.lastIndexOf('/'))}/index.m3u8`;
}

/**
 * The targets of the `count` media segments listed after `segmentKey` in a media playlist, resolved
 * against the playlist's directory (relative URIs, absolute paths or absolute URLs).
 */
export function nextSegmentTargets(playlist: string, segmentKey: string, count: number): string[] {
  if (count <= 0) return [];
  const directory = segmentKey.slice(0, segmentKey.lastIndexOf('/') + 1);
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
  const index = resolved.findIndex((target) => target !== undefined && (target === segmentKey || target.split('?')[0] === segmentKey));
  if (index === -1) return [];
  return resolved.slice(index + 1, index + 1 + count).filter((target): target is string => target !== undefined);
}
