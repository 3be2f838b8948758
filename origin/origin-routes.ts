import { buffer } from 'node:stream/consumers';
import type { Logger } from '../infra/runtime/logger.js';
import { readCatalogIndex, type CatalogIndex } from './catalog-index.js';
import type { FileStore, StoredFile } from './file-store.js';
import { liveSegment, liveWindowAt, renderLivePlaylist, type LiveTimeline } from './live-window.js';
import { parseMediaPlaylist, type MediaPlaylist } from './media-playlist.js';
import type { OriginMetrics, RouteKind } from './origin-metrics.js';
import { LIVE_CHANNELS } from './renditions.js';
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
  readonly liveWindow: number;
  readonly clock: () => number;
  readonly metrics: OriginMetrics;
  readonly isDraining: () => boolean;
  readonly log: Logger;
}

interface LiveSource {
  readonly etag: string;
  readonly playlist: MediaPlaylist;
  readonly timeline: LiveTimeline;
}

/** Maps a validated path to the representation that answers it, or throws an HttpError. */
export function createOriginRoutes(options: OriginRoutesOptions): (segments: readonly string[]) => Promise<Representation> {
  const { store, clock, log } = options;
  const liveSources = new Map<string, LiveSource>();
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

  const channelOf = (channelId: string): (typeof LIVE_CHANNELS)[number] => {
    const channel = LIVE_CHANNELS.find((candidate) => candidate.id === channelId);
    if (!channel) throw new HttpError(404, 'no such live channel');
    return channel;
  };

  /** The looped source rendition, parsed once per version of its playlist. */
  const liveSourceOf = async (source: string, rendition: string): Promise<LiveSource> => {
    const file = await openFile(['vod', source, rendition, 'index.m3u8']);
    const key = `${source}/${rendition}`;
    const known = liveSources.get(key);
    if (known?.etag === file.etag) {
      await file.release();
      return known;
    }
    const bytes = file.bytes ?? (file.size === 0 ? Buffer.alloc(0) : await buffer(file.body(0, file.size - 1)));
    await file.release();
    const playlist = parseMediaPlaylist(bytes.toString('utf8'));
    if (playlist.mapUri) throw new HttpError(500, 'live channels loop MPEG-TS sources only');
    const live = { etag: file.etag, playlist, timeline: { segmentDurationsMs: playlist.segments.map((s) => s.durationMs) } };
    liveSources.set(key, live);
    return live;
  };

  const livePlaylist = async (source: string, rendition: string, nowMs: number): Promise<Representation> => {
    const live = await liveSourceOf(source, rendition);
    const window = liveWindowAt(live.timeline, nowMs, options.liveWindow);
    const text = renderLivePlaylist(window, { targetDuration: live.playlist.targetDuration, uriOf: (segment) => `seg-${segment.msn}.ts` });
    return representationOfBytes(Buffer.from(text), PLAYLIST_TYPE, CACHE_CONTROL.livePlaylist, new Date(window.updatedAtMs));
  };

  const liveSegmentFile = async (source: string, rendition: string, msn: number, nowMs: number): Promise<Representation> => {
    const live = await liveSourceOf(source, rendition);
    const segment = liveSegment(live.timeline, msn, nowMs);
    if (!segment) throw new HttpError(404, 'live segment not available (yet)');
    const representation = await catalogFile(['vod', source, rendition, live.playlist.segments[segment.sourceIndex]!.uri]);
    // Deterministic on every replica: the moment this segment became available.
    return { ...representation, lastModified: new Date(segment.startMs + segment.durationMs) };
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
        if (rest.length === 2 && rest[1] === 'master.m3u8') {
          // The ladder is the source's: same renditions, same codecs, relative URIs.
          return catalogFile(['vod', channelOf(rest[0]!).source, 'master.m3u8'], CACHE_CONTROL.vodPlaylist);
        }
        if (rest.length === 3 && rest[2] === 'index.m3u8') return livePlaylist(channelOf(rest[0]!).source, rest[1]!, now);
        break;
      case 'live-segment': {
        const msn = rest.length === 3 ? LIVE_SEGMENT.exec(rest[2]!)?.[1] : undefined;
        if (msn !== undefined) return liveSegmentFile(channelOf(rest[0]!).source, rest[1]!, Number(msn), now);
        break;
      }
      default:
        break;
    }
    throw new HttpError(404, 'not found');
  };
}
