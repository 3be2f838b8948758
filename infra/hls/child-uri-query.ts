// Relative URIs in a playlist do not inherit the playlist's query string, so a viewer holding a
// signed URL would lose its token at the first child. This carries a query (the token) into every
// URI a playlist hands out: URI lines (variants, segments) and the URI attribute of the tags that
// have one (EXT-X-MAP, EXT-X-MEDIA, EXT-X-KEY, EXT-X-PART, EXT-X-PRELOAD-HINT, …). The edge does it
// on the way out (never in the cached copy), the balancer in its master-playlist rewrite.
import { attributeValue, parseAttributeList, serializeAttributeList, withQuotedAttribute } from './playlist-attributes.js';

/** Whether a request path (or cache key) names a playlist, whose URIs a token is carried into. */
export function isPlaylistPath(target: string): boolean {
  const end = target.search(/[?#]/);
  return (end === -1 ? target : target.slice(0, end)).endsWith('.m3u8');
}

/** Tags whose attribute list may carry a URI (RFC 8216bis). */
const TAGS_WITH_URI = new Set([
  'EXT-X-MAP',
  'EXT-X-MEDIA',
  'EXT-X-KEY',
  'EXT-X-SESSION-KEY',
  'EXT-X-SESSION-DATA',
  'EXT-X-I-FRAME-STREAM-INF',
  'EXT-X-PART',
  'EXT-X-PRELOAD-HINT',
  'EXT-X-RENDITION-REPORT',
]);

/**
 * `uri` with the parameters of `query` set (any earlier values of those names replaced), keeping
 * its own other parameters and fragment. URIs with a scheme other than http(s) (data:, skd:) are
 * left alone.
 */
export function withQueryParams(uri: string, query: string): string {
  if (query === '' || uri === '') return uri;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') return uri;
  const hash = uri.indexOf('#');
  const fragment = hash === -1 ? '' : uri.slice(hash);
  const beforeFragment = hash === -1 ? uri : uri.slice(0, hash);
  const question = beforeFragment.indexOf('?');
  const base = question === -1 ? beforeFragment : beforeFragment.slice(0, question);
  const added = new URLSearchParams(query);
  const own = new URLSearchParams(question === -1 ? '' : beforeFragment.slice(question + 1));
  for (const name of new Set(added.keys())) own.delete(name);
  const kept = own.toString();
  return `${base}?${kept === '' ? '' : `${kept}&`}${added.toString()}${fragment}`;
}

/** The playlist with `query` carried into every URI it holds; the text otherwise unchanged. */
export function withQueryOnChildUris(playlist: string, query: string): string {
  if (query === '') return playlist;
  return playlist
    .split('\n')
    .map((line) => {
      const trimmed = line.replace(/\r$/, '');
      const eol = line.slice(trimmed.length);
      if (trimmed.trim() === '') return line;
      if (!trimmed.startsWith('#')) return `${withQueryParams(trimmed.trim(), query)}${eol}`;
      const match = /^#(EXT[A-Z0-9-]*):(.*)$/.exec(trimmed);
      if (!match || !TAGS_WITH_URI.has(match[1]!)) return line;
      let attributes;
      try {
        attributes = parseAttributeList(match[2]!);
      } catch {
        return line; // not ours to judge; the player will
      }
      const uri = attributeValue(attributes, 'URI');
      if (uri === undefined) return line;
      return `#${match[1]}:${serializeAttributeList(withQuotedAttribute(attributes, 'URI', withQueryParams(uri, query)))}${eol}`;
    })
    .join('\n');
}
