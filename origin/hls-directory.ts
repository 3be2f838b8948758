// An existing HLS directory checked before it joins the catalog: the master and every media
// playlist parse, every file they name exists inside the directory, and every name is one the
// origin can serve. Nothing else in the directory is taken.
import { lstat, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { parseAttributeList } from '../infra/hls/playlist-attributes.js';
import { parseMediaPlaylist, type MediaPlaylist } from './media-playlist.js';
import { mediaTypeOf } from './response-policy.js';

export const MASTER_PLAYLIST = 'master.m3u8';
// The origin serves /vod/<asset>/<file> and /vod/<asset>/<dir>/<file>, plain names only (request-path.ts).
const MAX_DEPTH = 2;
const PLAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export class HlsDirectoryError extends Error {
  override readonly name = 'HlsDirectoryError';
}

export interface MasterReferences {
  /** Media playlist URIs of EXT-X-STREAM-INF, EXT-X-MEDIA and EXT-X-I-FRAME-STREAM-INF, as written. */
  readonly playlists: readonly string[];
  readonly variants: number;
  readonly audio: number;
  readonly subtitles: number;
}

/** The playlists a master playlist refers to; rejects what is not a master playlist. */
export function parseMasterReferences(text: string): MasterReferences {
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
  if (lines[0] !== '#EXTM3U') throw new HlsDirectoryError('master.m3u8 is not an HLS playlist (missing #EXTM3U)');
  const playlists: string[] = [];
  let variants = 0;
  let audio = 0;
  let subtitles = 0;
  let pendingVariant = false;
  const attributesOf = (line: string): Map<string, string> => {
    try {
      const list = parseAttributeList(line.slice(line.indexOf(':') + 1));
      return new Map(list.map(([name, raw]) => [name, raw.replace(/^"(.*)"$/, '$1')]));
    } catch (error) {
      throw new HlsDirectoryError(`master.m3u8: ${(error as Error).message}`);
    }
  };
  for (const line of lines.slice(1)) {
    if (pendingVariant && !line.startsWith('#')) {
      playlists.push(line);
      variants++;
      pendingVariant = false;
    } else if (line.startsWith('#EXTINF') || line.startsWith('#EXT-X-TARGETDURATION')) {
      throw new HlsDirectoryError('master.m3u8 is a media playlist, not a master playlist');
    } else if (line.startsWith('#EXT-X-STREAM-INF:')) {
      if (pendingVariant) throw new HlsDirectoryError('master.m3u8: EXT-X-STREAM-INF is not followed by its URI');
      pendingVariant = true;
    } else if (line.startsWith('#EXT-X-MEDIA:') || line.startsWith('#EXT-X-I-FRAME-STREAM-INF:')) {
      const attributes = attributesOf(line);
      const uri = attributes.get('URI');
      if (line.startsWith('#EXT-X-MEDIA:')) {
        if (attributes.get('TYPE') === 'AUDIO') audio++;
        if (attributes.get('TYPE') === 'SUBTITLES') subtitles++;
      } else if (uri === undefined) {
        throw new HlsDirectoryError('master.m3u8: EXT-X-I-FRAME-STREAM-INF without URI');
      }
      if (uri !== undefined) playlists.push(uri);
    } else if (!line.startsWith('#')) {
      throw new HlsDirectoryError(`master.m3u8: URI without EXT-X-STREAM-INF: "${line.slice(0, 80)}"`);
    }
  }
  if (pendingVariant) throw new HlsDirectoryError('master.m3u8: EXT-X-STREAM-INF is not followed by its URI');
  if (variants === 0) throw new HlsDirectoryError('master.m3u8 has no variant streams');
  return { playlists: [...new Set(playlists)], variants, audio, subtitles };
}

/**
 * Where a relative URI written in `fromFile` (a path relative to the directory) points, relative to
 * the directory; throws when it is absolute, leaves the directory, or names something the origin
 * would not serve.
 */
export function resolveInside(fromFile: string, uri: string): string {
  const shown = uri.slice(0, 80);
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(uri) || uri.startsWith('/') || uri.includes('\\')) {
    throw new HlsDirectoryError(`${fromFile}: "${shown}" is not a relative path inside the directory`);
  }
  if (/[?#]/.test(uri)) throw new HlsDirectoryError(`${fromFile}: "${shown}" has a query or fragment`);
  let decoded: string;
  try {
    decoded = decodeURIComponent(uri);
  } catch {
    throw new HlsDirectoryError(`${fromFile}: "${shown}" is badly percent-encoded`);
  }
  const path = posix.normalize(posix.join(posix.dirname(fromFile), decoded));
  if (path === '..' || path.startsWith('../') || posix.isAbsolute(path)) throw new HlsDirectoryError(`${fromFile}: "${shown}" escapes the directory`);
  const names = path.split('/');
  if (names.length > MAX_DEPTH || !names.every((name) => PLAIN_NAME.test(name))) {
    throw new HlsDirectoryError(`${fromFile}: "${shown}" is not a name the origin serves (at most ${MAX_DEPTH} levels of letters, digits, . - _)`);
  }
  if (!mediaTypeOf(path)) throw new HlsDirectoryError(`${fromFile}: "${shown}" has a file type the origin does not serve`);
  return path;
}

export interface HlsDirectoryReport {
  /** Every file to import, relative to the directory (the master first). */
  readonly files: readonly string[];
  readonly format: 'ts' | 'fmp4';
  readonly variants: number;
  readonly audio: number;
  readonly subtitles: number;
  /** The longest media playlist. */
  readonly durationSeconds: number;
}

async function requireFile(dir: string, path: string, referredFrom: string): Promise<void> {
  const stats = await lstat(join(dir, path)).catch(() => undefined);
  if (!stats) throw new HlsDirectoryError(`${referredFrom}: "${path}" does not exist`);
  if (!stats.isFile()) throw new HlsDirectoryError(`${referredFrom}: "${path}" is not a regular file${stats.isSymbolicLink() ? ' (symbolic links are not imported)' : ''}`);
}

/** Checks an HLS directory whole; the first problem found is thrown as an HlsDirectoryError. */
export async function validateHlsDirectory(dir: string): Promise<HlsDirectoryReport> {
  const dirStats = await lstat(dir).catch(() => undefined);
  if (!dirStats?.isDirectory()) throw new HlsDirectoryError(`${dir} is not a directory`);
  await requireFile(dir, MASTER_PLAYLIST, dir);
  const master = parseMasterReferences(await readFile(join(dir, MASTER_PLAYLIST), 'utf8'));
  const files = new Set<string>([MASTER_PLAYLIST]);
  let fragmented = false;
  let durationMs = 0;
  for (const uri of master.playlists) {
    const path = resolveInside(MASTER_PLAYLIST, uri);
    await requireFile(dir, path, MASTER_PLAYLIST);
    let playlist: MediaPlaylist;
    try {
      playlist = parseMediaPlaylist(await readFile(join(dir, path), 'utf8'));
    } catch (error) {
      throw new HlsDirectoryError(`${path}: ${(error as Error).message}`);
    }
    if (!playlist.endList) throw new HlsDirectoryError(`${path}: not a VOD playlist (no #EXT-X-ENDLIST)`);
    files.add(path);
    const referenced = [...(playlist.mapUri ? [playlist.mapUri] : []), ...playlist.segments.map((segment) => segment.uri)];
    for (const segmentUri of referenced) {
      const segmentPath = resolveInside(path, segmentUri);
      if (!files.has(segmentPath)) await requireFile(dir, segmentPath, path);
      files.add(segmentPath);
    }
    fragmented ||= playlist.mapUri !== undefined;
    durationMs = Math.max(durationMs, playlist.segments.reduce((sum, segment) => sum + segment.durationMs, 0));
  }
  return { files: [...files], format: fragmented ? 'fmp4' : 'ts', variants: master.variants, audio: master.audio, subtitles: master.subtitles, durationSeconds: durationMs / 1000 };
}
