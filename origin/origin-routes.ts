import { join } from 'node:path';
import type { Logger } from '../infra/runtime/logger.js';
import { readCatalogIndex, type CatalogIndex } from './catalog-index.js';
import type { FileStore, StoredFile } from './file-store.js';
import { CHANNEL_MARKER } from './live/live-channel-layout.js';
import { liveFreshness } from './live/live-stall.js';
import { parseDeliveryDirectives, type DeliveryDirectives } from './live/ll-hls-query.js';
import { isUpcomingPart, parsePartUri, playlistHas, readLowLatencyState, renderDeltaUpdate, type LowLatencyPlaylistState } from './live/ll-playlist-state.js';
import type { PlaylistUpdateWaiters } from './playlist-update-waiters.js';
import type { OriginMetrics, RouteKind } from './origin-metrics.js';
import { HttpError, representationOfBytes, representationOfFile, type Representation } from './representation.js';
import { blockingReloadCacheControl, CACHE_CONTROL, PLAYLIST_TYPE, mediaTypeOf } from './response-policy.js';

// Canonical numbers only, so one segment or part has exactly one URL (and one edge cache entry):
// seg-<msn>.ts, or in Low-Latency channels init.mp4, seg-<msn>.m4s and parts seg-<msn>.<part>.m4s.
const LIVE_MEDIA = /^(?:seg-(0|[1-9]\d{0,14})(?:\.ts|\.m4s|\.(?:0|[1-9]\d{0,5})\.m4s)|init\.mp4)$/;
/** LL-HLS: a blocking request waits at most this many target durations (§6.2.5.2: three). */
const HOLD_TARGET_DURATIONS = 3;
/** LL-HLS: _HLS_msn may be at most this far past the last segment (§6.2.5.2). */
const MSN_LEAD_LIMIT = 2;
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
  /** Where LL-HLS blocking requests wait for the playlist to change. */
  readonly waiters: PlaylistUpdateWaiters;
}

/** What one request asks: its validated path, its query (LL-HLS directives) and its lifetime. */
export interface RouteRequest {
  readonly segments: readonly string[];
  readonly query: URLSearchParams;
  /** Fires when the client goes away: a held request stops waiting. */
  readonly signal: AbortSignal;
}

/** Maps a validated path to the representation that answers it, or throws an HttpError. */
export function createOriginRoutes(options: OriginRoutesOptions): (request: RouteRequest) => Promise<Representation> {
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
  /**
   * Holds a request until the rendition playlist satisfies `isReady` (§6.2.5.2), at most three
   * target durations, then answers 503; a full hold table also answers 503.
   */
  const holdUntil = async (playlistPath: readonly string[], targetDuration: number, isReady: (state: LowLatencyPlaylistState) => boolean, signal: AbortSignal, what: string): Promise<void> => {
    const seconds = HOLD_TARGET_DURATIONS * targetDuration;
    const outcome = await options.waiters.waitFor(
      join(options.contentDir, ...playlistPath),
      (text) => {
        const state = readLowLatencyState(text);
        return state !== undefined && isReady(state);
      },
      seconds * 1000,
      signal,
    );
    if (outcome === 'full') throw new HttpError(503, 'too many requests held for playlist updates', { 'Retry-After': '1' });
    if (outcome === 'timeout') throw new HttpError(503, `${what} did not appear within ${seconds} s`, { 'Retry-After': String(targetDuration) });
    if (outcome === 'aborted') throw new HttpError(503, 'request ended while held');
  };

  /** The text of a playlist we wrote (small enough to be held in memory); a huge file is released and refused. */
  const textOf = async (file: StoredFile): Promise<string> => {
    if (file.bytes) return file.bytes.toString('utf8');
    await file.release();
    throw new HttpError(500, 'live playlist too large');
  };

  /**
   * A Low-Latency rendition playlist answering its delivery directives: a blocking reload waits
   * until the playlist holds the asked segment or part; _HLS_skip gets a delta update when
   * segments can be skipped. The file given is released here.
   */
  const lowLatencyPlaylist = async (path: readonly string[], playlist: StoredFile, state: LowLatencyPlaylistState, directives: DeliveryDirectives, signal: AbortSignal): Promise<Representation> => {
    const { msn, part } = directives;
    let file = playlist;
    let current = state;
    if (msn !== undefined) {
      if (msn > state.lastMsn + MSN_LEAD_LIMIT) {
        await file.release();
        throw new HttpError(400, `_HLS_msn ${msn} is more than ${MSN_LEAD_LIMIT} segments past the last one (${state.lastMsn})`);
      }
      if (!playlistHas(state, msn, part)) {
        await file.release();
        await holdUntil(path, state.targetDuration, (next) => playlistHas(next, msn, part), signal, `segment ${msn}${part === undefined ? '' : ` part ${part}`}`);
        const found = await store.lookup(path);
        if (!found.found) throw new HttpError(503, 'live playlist vanished while held');
        file = found.file;
        current = readLowLatencyState(await textOf(file)) ?? state;
      }
    }
    const cacheControl = msn === undefined ? CACHE_CONTROL.livePlaylist : blockingReloadCacheControl(current.targetDuration);
    const delta = directives.skip ? renderDeltaUpdate(await textOf(file), current) : undefined;
    if (delta === undefined) return representationOfFile(file, PLAYLIST_TYPE, cacheControl);
    await file.release();
    return representationOfBytes(Buffer.from(delta), PLAYLIST_TYPE, cacheControl, file.lastModified);
  };

  /**
   * A part that is not there yet: held until the playlist lists it when it is the one the
   * preload hint names (or the next), as §6.2.6 asks; any other missing part is a 404.
   */
  const upcomingPart = async (segments: readonly string[], signal: AbortSignal): Promise<Representation> => {
    const [, channel, rendition, name] = segments as [string, string, string, string];
    const wanted = parsePartUri(name);
    const path = ['live', channel, rendition, 'index.m3u8'];
    const found = wanted && (await store.lookup(path));
    const state = found?.found ? readLowLatencyState(await textOf(found.file)) : undefined;
    if (found?.found) await found.file.release();
    if (!wanted || !state || !isUpcomingPart(state, wanted.msn, wanted.part)) throw new HttpError(404, 'live segment not available (not yet, or no longer)');
    await holdUntil(path, state.targetDuration, (next) => playlistHas(next, wanted.msn, wanted.part), signal, `part ${name}`);
    return catalogFile(segments);
  };

  const livePlaylist = async (channel: string, rendition: string | undefined, now: number, directives: DeliveryDirectives, signal: AbortSignal): Promise<Representation> => {
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
    // Directives mean something only to a Low-Latency media playlist; elsewhere they are ignored.
    const state = rendition === undefined ? undefined : readLowLatencyState(await textOf(playlist));
    if (state) return lowLatencyPlaylist(['live', channel, rendition!, 'index.m3u8'], playlist, state, directives, signal);
    return representationOfFile(playlist, PLAYLIST_TYPE, CACHE_CONTROL.livePlaylist);
  };

  return async ({ segments, query, signal }) => {
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
      case 'live-playlist': {
        const parsed = parseDeliveryDirectives(query);
        if (!parsed.ok) throw new HttpError(400, parsed.reason);
        if (rest.length === 2 && rest[1] === 'master.m3u8') return livePlaylist(rest[0]!, undefined, now, parsed.directives, signal);
        if (rest.length === 3 && rest[2] === 'index.m3u8') return livePlaylist(rest[0]!, rest[1]!, now, parsed.directives, signal);
        break;
      }
      case 'live-segment':
        if (rest.length === 3 && LIVE_MEDIA.test(rest[2]!)) {
          try {
            return await catalogFile(segments);
          } catch (error) {
            if (error instanceof HttpError && error.status === 404) return upcomingPart(segments, signal);
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
