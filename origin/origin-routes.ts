import type { Logger } from '../infra/runtime/logger.js';
import { readCatalogIndex, type CatalogIndex } from './catalog-index.js';
import type { FileStore, StoredFile } from './file-store.js';
import { CHANNEL_MARKER } from './live/live-channel-layout.js';
import { liveFreshness } from './live/live-stall.js';
import type { OriginMetrics, RouteKind } from './origin-metrics.js';
import { HttpError, representationOfBytes, representationOfFile, type Representation } from './representation.js';
import { CACHE_CONTROL, PLAYLIST_TYPE, mediaTypeOf } from './response-policy.js';

// Canonical numbers only, so one segment has exactly one URL (and one edge cache entry).
const LIVE_SEGMENT = /^seg-(0|[1-9]\d{0,14})\.ts$/;
const TEXT = 'text/plain; charset=utf-8';

/** What a validated path asks for, before anything is looked up (the metric and log label). */
export function classifyRoute(segments: readonly string[]): RouteKind {
  const [area, ...rest] = segments;
  const last = segments[segments.length - 1] ?? '';
  if (rest.length === 0 && (area === 'healthz' || area === 'readyz')) return 'health';
  if (rest.length === 0 && area === 'metrics') return 'metrics';
  if (rest.length === 0 && area === 'catalog.json') return 'catalog';
  if (area === 'vod' && (rest.length === 2 || rest.length === 3)) return last.endsWith('.m3u8') ? 'vod-playlist' : 'vod-segment';
  if (area === 'live' && (rest.length === 2 || rest.length === 3)) return last.endsWith('.m3u8') ? 'live-playlist' : 'live-segment';
  return 'not-found';
}

export interface OriginRoutesOptions {
  readonly contentDir: string;
  readonly store: FileStore;
  readonly clock: () => number;
  readonly metrics: OriginMetrics;
  readonly isDraining: () => boolean;
  readonly log: Logger;
}

/** Maps a validated path to the representation that answers it, or throws an HttpError. */
export function createOriginRoutes(options: OriginRoutesOptions): (segments: readonly string[]) => Promise<Representation> {
  const { store, clock, log } = options;
  let catalog: { index: Promise<CatalogIndex>; readAt: number } | undefined;

  const catalogIndex = (): Promise<CatalogIndex> => {
    if (!catalog || clock() - catalog.readAt > 2000) catalog = { index: readCatalogIndex(options.contentDir), readAt: clock() };
    return catalog.index;
  };

  const openFile = async (segments: readonly string[]): Promise<StoredFile> => {
    const result = await store.lookup(segments);
    if (result.found) return result.file;
    if (result.reason === 'outside') log.warn({ path: segments.join('/') }, 'refused a path that resolves outside the catalog');
    throw new HttpError(404, 'not found');
  };

  const catalogFile = async (segments: readonly string[], cacheControl?: string): Promise<Representation> => {
    const contentType = mediaTypeOf(segments[segments.length - 1]!);
    if (!contentType) throw new HttpError(404, 'not found');
    const file = await openFile(segments);
    return representationOfFile(file, contentType, cacheControl ?? (contentType === PLAYLIST_TYPE ? CACHE_CONTROL.vodPlaylist : CACHE_CONTROL.segment));
  };

  /**
   * A live channel's playlist from the shared live store, refused with 503 while the encoder is
   * not writing it, so players and edges retry instead of polling a frozen window. The master is
   * judged by its first variant: one encoder writes every rendition of a channel.
   */
  const livePlaylist = async (channel: string, rendition: string | undefined, now: number): Promise<Representation> => {
    const marker = await store.lookup(['live', channel, CHANNEL_MARKER]);
    if (!marker.found) throw new HttpError(404, 'no such live channel');
    await marker.file.release();
    const requested = await store.lookup(rendition === undefined ? ['live', channel, 'master.m3u8'] : ['live', channel, rendition, 'index.m3u8']);
    if (!requested.found) {
      if (rendition !== undefined) throw new HttpError(404, 'no such rendition');
      throw new HttpError(503, `live channel ${channel} is starting: no segments yet`, { 'Retry-After': '2' });
    }
    const playlist = requested.file;
    try {
      // Playlists are far below the store's in-memory size; a huge one is not a playlist we wrote.
      if (!playlist.bytes) throw new HttpError(500, 'live playlist too large');
      let media = playlist;
      if (rendition === undefined) {
        const first = /^([A-Za-z0-9][A-Za-z0-9._-]*)\/index\.m3u8$/m.exec(playlist.bytes.toString('utf8'))?.[1];
        const found = first === undefined ? undefined : await store.lookup(['live', channel, first, 'index.m3u8']);
        if (!found?.found) throw new HttpError(500, 'live master playlist names no media playlist of the channel');
        media = found.file;
        await media.release();
      }
      const freshness = liveFreshness((media.bytes ?? Buffer.alloc(0)).toString('utf8'), media.lastModified.getTime(), now);
      if (freshness.stalled) throw new HttpError(503, freshness.reason, { 'Retry-After': String(freshness.retryAfterSeconds) });
    } catch (error) {
      await playlist.release();
      throw error;
    }
    return representationOfFile(playlist, PLAYLIST_TYPE, CACHE_CONTROL.livePlaylist);
  };

  return async (segments) => {
    const [area, ...rest] = segments;
    const now = clock();
    const text = (body: string): Representation => representationOfBytes(Buffer.from(body), TEXT, CACHE_CONTROL.uncacheable, new Date(now));
    switch (classifyRoute(segments)) {
      case 'health':
        if (area === 'healthz') return text('ok\n');
        if (options.isDraining()) throw new HttpError(503, 'draining');
        if ((await catalogIndex()).assets.length === 0) throw new HttpError(503, 'no content: run `streamedge content`');
        return text('ready\n');
      case 'metrics': {
        const registry = options.metrics.registry;
        return representationOfBytes(Buffer.from(await registry.metrics()), registry.contentType, CACHE_CONTROL.uncacheable, new Date(now));
      }
      case 'catalog': {
        const index = await catalogIndex();
        const body = Buffer.from(`${JSON.stringify({ assets: index.assets })}\n`);
        return representationOfBytes(body, 'application/json; charset=utf-8', CACHE_CONTROL.catalog, index.updatedAt);
      }
      case 'vod-playlist':
      case 'vod-segment':
        return catalogFile(segments);
      case 'live-playlist':
        if (rest.length === 2 && rest[1] === 'master.m3u8') return livePlaylist(rest[0]!, undefined, now);
        if (rest.length === 3 && rest[2] === 'index.m3u8') return livePlaylist(rest[0]!, rest[1]!, now);
        break;
      case 'live-segment':
        if (rest.length === 3 && LIVE_SEGMENT.test(rest[2]!)) {
          try {
            return await catalogFile(segments);
          } catch (error) {
            if (error instanceof HttpError && error.status === 404) throw new HttpError(404, 'live segment not available (not yet, or no longer)');
            throw error;
          }
        }
        break;
      default:
        break;
    }
    throw new HttpError(404, 'not found');
  };
}
