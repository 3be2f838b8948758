// What a synthetic viewer reads from HLS playlists: the master's variants per content-steering
// pathway, and a media playlist's segments. Only what a fixed-rendition player needs.
import { attributeValue, parseAttributeList } from '../../infra/hls/playlist-attributes.js';

/** Content steering: the manifest to reload and the pathway the master names first. */
export interface SteeringTag {
  readonly serverUri: string;
  readonly pathwayId: string | undefined;
}

export interface MasterChoice {
  /** Media playlist URL of the chosen rendition on each pathway, in playlist order ('.' without steering). */
  readonly pathways: ReadonlyMap<string, string>;
  readonly steering: SteeringTag | undefined;
}

export interface MediaSegment {
  readonly sequence: number;
  readonly uri: string;
  readonly duration: number;
}

export interface MediaPlaylist {
  readonly targetDuration: number;
  readonly mediaSequence: number;
  readonly segments: readonly MediaSegment[];
  readonly ended: boolean;
}

export class PlaylistReadError extends Error {}

function lines(text: string): string[] {
  const all = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  if (all[0] !== '#EXTM3U') throw new PlaylistReadError('not an HLS playlist (no #EXTM3U)');
  return all;
}

/**
 * Picks one rendition per pathway: the variant whose STABLE-VARIANT-ID or URI names `rendition`
 * (e.g. "240p"), or the lowest BANDWIDTH when none is asked for. URIs resolve against `baseUrl`.
 */
export function chooseRendition(text: string, baseUrl: string, rendition: string | undefined): MasterChoice {
  const candidates = new Map<string, { uri: string; bandwidth: number; label: string }[]>();
  let steering: SteeringTag | undefined;
  let pending: ReturnType<typeof parseAttributeList> | undefined;
  for (const line of lines(text)) {
    if (pending) {
      if (line.startsWith('#')) continue;
      const pathway = attributeValue(pending, 'PATHWAY-ID') ?? '.';
      const label = attributeValue(pending, 'STABLE-VARIANT-ID') ?? line;
      const list = candidates.get(pathway) ?? [];
      list.push({ uri: new URL(line, baseUrl).href, bandwidth: Number(attributeValue(pending, 'BANDWIDTH') ?? 0), label });
      candidates.set(pathway, list);
      pending = undefined;
    } else if (line.startsWith('#EXT-X-STREAM-INF:')) {
      pending = parseAttributeList(line.slice('#EXT-X-STREAM-INF:'.length));
    } else if (line.startsWith('#EXT-X-CONTENT-STEERING:')) {
      const attributes = parseAttributeList(line.slice('#EXT-X-CONTENT-STEERING:'.length));
      const serverUri = attributeValue(attributes, 'SERVER-URI');
      if (serverUri) steering = { serverUri: new URL(serverUri, baseUrl).href, pathwayId: attributeValue(attributes, 'PATHWAY-ID') };
    } else if (line.startsWith('#EXTINF')) {
      throw new PlaylistReadError('a media playlist, not a master playlist');
    }
  }
  const pathways = new Map<string, string>();
  for (const [pathway, variants] of candidates) {
    const chosen = rendition === undefined
      ? [...variants].sort((a, b) => a.bandwidth - b.bandwidth)[0]
      : variants.find((variant) => variant.label.split('/').includes(rendition) || variant.label === rendition);
    if (!chosen) throw new PlaylistReadError(`no variant "${rendition}" on pathway ${pathway} (have ${variants.map((v) => v.label).join(', ')})`);
    pathways.set(pathway, chosen.uri);
  }
  if (pathways.size === 0) throw new PlaylistReadError('master playlist lists no variant');
  return { pathways, steering };
}

export function readMediaPlaylist(text: string): MediaPlaylist {
  let targetDuration: number | undefined;
  let mediaSequence = 0;
  let ended = false;
  let duration: number | undefined;
  const segments: MediaSegment[] = [];
  for (const line of lines(text)) {
    if (line.startsWith('#EXT-X-TARGETDURATION:')) targetDuration = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) mediaSequence = Number(line.slice(22));
    else if (line === '#EXT-X-ENDLIST') ended = true;
    else if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice(8));
    else if (line.startsWith('#EXT-X-STREAM-INF')) throw new PlaylistReadError('a master playlist, not a media playlist');
    else if (!line.startsWith('#') && duration !== undefined) {
      segments.push({ sequence: mediaSequence + segments.length, uri: line, duration });
      duration = undefined;
    }
  }
  if (targetDuration === undefined || !(targetDuration > 0)) throw new PlaylistReadError('no valid #EXT-X-TARGETDURATION');
  if (!Number.isInteger(mediaSequence) || mediaSequence < 0) throw new PlaylistReadError('invalid #EXT-X-MEDIA-SEQUENCE');
  if (segments.some((segment) => !(segment.duration >= 0))) throw new PlaylistReadError('invalid #EXTINF duration');
  return { targetDuration, mediaSequence, segments, ended };
}
