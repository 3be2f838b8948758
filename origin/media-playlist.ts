export interface MediaSegment {
  readonly uri: string;
  /** EXTINF duration in milliseconds (integer, so timelines add up without float drift). */
  readonly durationMs: number;
}

export interface MediaPlaylist {
  readonly targetDuration: number;
  readonly version: number | undefined;
  /** URI of EXT-X-MAP (fMP4 init segment), if any. */
  readonly mapUri: string | undefined;
  readonly segments: readonly MediaSegment[];
  readonly endList: boolean;
}

/** Parses the subset of RFC 8216 media playlists that ffmpeg's HLS muxer writes; rejects garbage. */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
  if (lines[0] !== '#EXTM3U') throw new Error('not an HLS playlist (missing #EXTM3U)');
  let targetDuration: number | undefined;
  let version: number | undefined;
  let mapUri: string | undefined;
  let endList = false;
  let pendingDuration: number | undefined;
  const segments: MediaSegment[] = [];
  for (const line of lines.slice(1)) {
    if (line.startsWith('#EXT-X-TARGETDURATION:')) targetDuration = Number(line.slice('#EXT-X-TARGETDURATION:'.length));
    else if (line.startsWith('#EXT-X-VERSION:')) version = Number(line.slice('#EXT-X-VERSION:'.length));
    else if (line.startsWith('#EXT-X-MAP:')) mapUri = /URI="([^"]+)"/.exec(line)?.[1];
    else if (line === '#EXT-X-ENDLIST') endList = true;
    else if (line.startsWith('#EXTINF:')) {
      pendingDuration = Number(line.slice('#EXTINF:'.length).split(',')[0]);
      if (!Number.isFinite(pendingDuration) || pendingDuration <= 0) throw new Error(`bad EXTINF: ${line}`);
    } else if (!line.startsWith('#')) {
      if (pendingDuration === undefined) throw new Error(`segment URI without EXTINF: ${line}`);
      segments.push({ uri: line, durationMs: Math.round(pendingDuration * 1000) });
      pendingDuration = undefined;
    }
  }
  if (targetDuration === undefined || !Number.isInteger(targetDuration) || targetDuration <= 0) {
    throw new Error('missing or bad #EXT-X-TARGETDURATION');
  }
  if (segments.length === 0) throw new Error('playlist has no segments');
  return { targetDuration, version, mapUri, segments, endList };
}
