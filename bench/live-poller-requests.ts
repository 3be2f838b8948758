// What a bench:live poller sends and reads, apart from its socket: request heads built from a fixed
// prefix (only the blocking reload's _HLS_msn/_HLS_part change per request) and the preload hint
// found in a playlist's bytes without decoding the whole playlist.

/** The part a playlist's EXT-X-PRELOAD-HINT names, with the media sequence and part index to block on. */
export interface PreloadHint {
  readonly uri: string;
  readonly msn: number;
  readonly part: number;
}

const HINT_PREFIX = Buffer.from('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="', 'latin1');
const HINT_URI = /^seg-(\d+)\.(\d+)\.m4s$/;
const MAX_URI_CHARS = 256;

/** The last part preload hint in `playlist`, or undefined when it has none (or names no `seg-N.P.m4s`). */
export function preloadHintOf(playlist: Buffer): PreloadHint | undefined {
  const at = playlist.lastIndexOf(HINT_PREFIX);
  if (at < 0) return undefined;
  const start = at + HINT_PREFIX.length;
  const end = playlist.indexOf(0x22, start);
  if (end < 0 || end - start > MAX_URI_CHARS) return undefined;
  const uri = playlist.toString('latin1', start, end);
  const numbers = HINT_URI.exec(uri);
  return numbers ? { uri, msn: Number(numbers[1]), part: Number(numbers[2]) } : undefined;
}

/** Request heads for one rendition on one server: GETs on a keep-alive connection, nothing else a server must parse. */
export interface RenditionRequests {
  /** The playlist, unblocked (a viewer joining). */
  readonly playlist: string;
  /** The blocking reload that returns once `hint` is published. */
  reloadFor(hint: PreloadHint): string;
  part(uri: string): string;
}

/** Heads for the rendition at `path` (e.g. /live/bench/240p) on `host` (host:port, the Host field). */
export function renditionRequests(host: string, path: string): RenditionRequests {
  if (!/^[\w.-]+(?::\d+)?$/.test(host)) throw new TypeError(`renditionRequests: not a host[:port]: ${host}`);
  if (!/^\/[\w./-]*[\w.-]$/.test(path)) throw new TypeError(`renditionRequests: not an absolute path without a trailing slash: ${path}`);
  const tail = ` HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
  const reload = `GET ${path}/index.m3u8?_HLS_msn=`;
  return {
    playlist: `GET ${path}/index.m3u8${tail}`,
    reloadFor: (hint) => `${reload}${hint.msn}&_HLS_part=${hint.part}${tail}`,
    part: (uri) => `GET ${path}/${uri}${tail}`,
  };
}
