import { withQueryParams } from '../../infra/hls/child-uri-query.js';
import { attributeValue, parseAttributeList, serializeAttributeList, withQuotedAttribute, type AttributeList } from '../../infra/hls/playlist-attributes.js';

/** One content-steering pathway: an edge id and the base URL its URIs are rooted at. */
export interface SteeringPathway {
  readonly id: string;
  readonly baseUrl: string;
}

export interface MasterRewriteInput {
  /** The master playlist text as the edge served it. */
  readonly master: string;
  /** Its path, against which relative URIs resolve (e.g. /vod/demo-ts/master.m3u8). */
  readonly masterPath: string;
  /** Candidate edges, best first; the first is the initial PATHWAY-ID. */
  readonly pathways: readonly SteeringPathway[];
  /** SERVER-URI of the steering manifest (absolute path on the balancer, or absolute URL). */
  readonly steeringUri: string;
  /** A signed URL's token parameters, carried into every URI the playlist hands out (default none). */
  readonly childQuery?: string;
}

export class PlaylistError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlaylistError';
  }
}

interface Variant {
  readonly attributes: AttributeList;
  readonly uri: string;
  readonly stableId: string;
}

// Attributes of EXT-X-STREAM-INF that name a rendition group; each pathway gets its own groups.
const GROUP_REFERENCES = ['AUDIO', 'VIDEO', 'SUBTITLES', 'CLOSED-CAPTIONS'] as const;

function tagOf(line: string): { name: string; value: string } | undefined {
  const match = /^#(EXT[A-Z0-9-]*)(?::(.*))?$/.exec(line);
  return match ? { name: match[1]!, value: match[2] ?? '' } : undefined;
}

function parseAttributes(line: string, value: string): AttributeList {
  try {
    return parseAttributeList(value);
  } catch (error) {
    throw new PlaylistError(`${line.slice(0, 60)}: ${(error as Error).message}`);
  }
}

/** Resolves a playlist URI onto one edge; absolute URIs elsewhere keep their path but move to the edge. */
function onPathway(pathway: SteeringPathway, masterPath: string, uri: string, childQuery = ''): string {
  return withQueryParams(resolvedOnPathway(pathway, masterPath, uri), childQuery);
}

function resolvedOnPathway(pathway: SteeringPathway, masterPath: string, uri: string): string {
  let resolved: URL;
  try {
    resolved = new URL(uri, `${pathway.baseUrl}${masterPath}`);
  } catch {
    throw new PlaylistError(`unresolvable URI "${uri.slice(0, 80)}"`);
  }
  if (resolved.protocol !== 'http:' && resolved.protocol !== 'https:') throw new PlaylistError(`unsupported URI scheme in "${uri.slice(0, 80)}"`);
  const base = new URL(pathway.baseUrl);
  if (resolved.origin === base.origin) return resolved.href;
  return `${pathway.baseUrl}${resolved.pathname}${resolved.search}`;
}

const groupFor = (group: string, pathwayId: string): string => `${group}@${pathwayId}`;

function stableIdFor(uri: string, taken: Set<string>): string {
  const base = uri.replace(/[^A-Za-z0-9+/=._-]/g, '_').slice(0, 200) || 'variant';
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  taken.add(id);
  return id;
}

/**
 * Rewrites a master playlist for HLS content steering: one pathway per candidate edge, each with
 * its own copy of every variant (PATHWAY-ID, a STABLE-VARIANT-ID shared across pathways so the
 * player keeps its quality level when it moves) and of every rendition group, all with absolute
 * URIs on that edge, plus EXT-X-CONTENT-STEERING naming the steering manifest and the best edge.
 */
export function rewriteMasterPlaylist(input: MasterRewriteInput): string {
  if (input.pathways.length === 0) throw new PlaylistError('no pathway to steer to');
  const lines = input.master.split(/\r?\n/).map((line) => line.trim());
  if (lines[0] !== '#EXTM3U') throw new PlaylistError('not an HLS playlist (no #EXTM3U)');

  const header: string[] = [];
  const media: AttributeList[] = [];
  const iFrames: AttributeList[] = [];
  const variants: Variant[] = [];
  const stableIds = new Set<string>();
  let pendingVariant: AttributeList | undefined;

  for (const line of lines.slice(1)) {
    if (line === '') continue;
    if (pendingVariant) {
      if (line.startsWith('#')) {
        if (tagOf(line)) throw new PlaylistError('EXT-X-STREAM-INF is not followed by its URI');
        continue; // a comment between the tag and its URI
      }
      const stableId = attributeValue(pendingVariant, 'STABLE-VARIANT-ID') ?? stableIdFor(line, stableIds);
      variants.push({ attributes: pendingVariant, uri: line, stableId });
      pendingVariant = undefined;
      continue;
    }
    const tag = tagOf(line);
    if (!tag) {
      if (line.startsWith('#')) header.push(line);
      else throw new PlaylistError(`URI line without EXT-X-STREAM-INF: "${line.slice(0, 80)}"`);
      continue;
    }
    switch (tag.name) {
      case 'EXTINF':
      case 'EXT-X-TARGETDURATION':
      case 'EXT-X-MEDIA-SEQUENCE':
        throw new PlaylistError('a media playlist, not a master playlist');
      case 'EXT-X-CONTENT-STEERING':
        break; // replaced by ours
      case 'EXT-X-STREAM-INF':
        pendingVariant = parseAttributes(line, tag.value).filter(([name]) => name !== 'PATHWAY-ID');
        break;
      case 'EXT-X-MEDIA':
        media.push(parseAttributes(line, tag.value).filter(([name]) => name !== 'PATHWAY-ID'));
        break;
      case 'EXT-X-I-FRAME-STREAM-INF':
        iFrames.push(parseAttributes(line, tag.value).filter(([name]) => name !== 'PATHWAY-ID'));
        break;
      case 'EXT-X-SESSION-DATA':
      case 'EXT-X-SESSION-KEY': {
        const attributes = parseAttributes(line, tag.value);
        const uri = attributeValue(attributes, 'URI');
        const rewritten = uri === undefined ? attributes : withQuotedAttribute(attributes, 'URI', onPathway(input.pathways[0]!, input.masterPath, uri, input.childQuery));
        header.push(`#${tag.name}:${serializeAttributeList(rewritten)}`);
        break;
      }
      default:
        header.push(line);
    }
  }
  if (pendingVariant) throw new PlaylistError('EXT-X-STREAM-INF is not followed by its URI');
  if (variants.length === 0) throw new PlaylistError('master playlist has no variant streams');

  const out = ['#EXTM3U', ...header];
  out.push(
    `#EXT-X-CONTENT-STEERING:${serializeAttributeList([
      ['SERVER-URI', `"${input.steeringUri}"`],
      ['PATHWAY-ID', `"${input.pathways[0]!.id}"`],
    ])}`,
  );
  for (const pathway of input.pathways) {
    const uriOn = (uri: string): string => onPathway(pathway, input.masterPath, uri, input.childQuery);
    for (const rendition of media) {
      let attributes = withQuotedAttribute(rendition, 'GROUP-ID', groupFor(attributeValue(rendition, 'GROUP-ID') ?? 'default', pathway.id));
      const uri = attributeValue(rendition, 'URI');
      if (uri !== undefined) attributes = withQuotedAttribute(attributes, 'URI', uriOn(uri));
      out.push(`#EXT-X-MEDIA:${serializeAttributeList(attributes)}`);
    }
    for (const variant of variants) {
      let attributes = withQuotedAttribute(variant.attributes, 'STABLE-VARIANT-ID', variant.stableId);
      for (const name of GROUP_REFERENCES) {
        const group = attributeValue(attributes, name);
        const quoted = variant.attributes.find(([key]) => key === name)?.[1].startsWith('"');
        if (group !== undefined && quoted) attributes = withQuotedAttribute(attributes, name, groupFor(group, pathway.id));
      }
      attributes = withQuotedAttribute(attributes, 'PATHWAY-ID', pathway.id);
      out.push(`#EXT-X-STREAM-INF:${serializeAttributeList(attributes)}`, uriOn(variant.uri));
    }
    for (const iFrame of iFrames) {
      const uri = attributeValue(iFrame, 'URI');
      let attributes = withQuotedAttribute(iFrame, 'PATHWAY-ID', pathway.id);
      if (uri !== undefined) attributes = withQuotedAttribute(attributes, 'URI', uriOn(uri));
      out.push(`#EXT-X-I-FRAME-STREAM-INF:${serializeAttributeList(attributes)}`);
    }
  }
  return `${out.join('\n')}\n`;
}
