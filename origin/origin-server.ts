import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { closeGracefully, listen } from '../infra/runtime/http-lifecycle.js';
import { createLogger, type Logger } from '../infra/runtime/logger.js';
import { evaluateRange } from './byte-range.js';
import { readCatalogIndex, type CatalogIndex } from './catalog-index.js';
import { isNotModified, rangeStillValid } from './conditional-request.js';
import { createFileStore, strongEtag, type FileStore, type StoredFile } from './file-store.js';
import { liveSegment, liveWindowAt, renderLivePlaylist, type LiveTimeline } from './live-window.js';
import { parseMediaPlaylist, type MediaPlaylist } from './media-playlist.js';
import { createOriginMetrics, type OriginMetrics, type RouteKind } from './origin-metrics.js';
import { parseRequestTarget } from './request-path.js';
import { LIVE_CHANNELS } from './renditions.js';

export const CACHE_CONTROL = {
  segment: 'public, max-age=31536000, immutable',
  vodPlaylist: 'public, max-age=3600, stale-while-revalidate=86400',
  /** About half a target duration, so a player polling every target duration sees each update. */
  livePlaylist: 'public, max-age=1',
  catalog: 'public, max-age=10, stale-while-revalidate=60',
  uncacheable: 'no-store',
} as const;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t',
  '.m4s': 'video/mp4',
  '.mp4': 'video/mp4',
};

// Canonical numbers only, so one segment has exactly one URL (and one edge cache entry).
const LIVE_SEGMENT = /^seg-(0|[1-9]\d{0,14})\.ts$/;
export const DEFAULT_LIVE_WINDOW = 6;

export interface OriginServerOptions {
  readonly contentDir: string;
  /** Instance name, sent as X-Origin-Id and used in logs. */
  readonly id?: string;
  /** Segments in a live playlist (default 6 = 12 s). */
  readonly liveWindow?: number;
  /** Wall clock in ms; tests pin it to check the live window. */
  readonly clock?: () => number;
  readonly logger?: Logger;
  readonly maxCachedBytes?: number;
  readonly maxCachedFileBytes?: number;
}

export interface OriginServer {
  readonly server: Server;
  readonly metrics: OriginMetrics;
  /** While draining /readyz answers 503, so balancers stop sending new work. */
  setDraining(draining: boolean): void;
}

/** One answerable object: bytes in memory or a pinned file, plus its validators and caching policy. */
interface Representation {
  readonly contentType: string;
  readonly cacheControl: string;
  readonly etag: string;
  readonly lastModified: Date;
  readonly size: number;
  readonly bytes: Buffer | undefined;
  readonly file: StoredFile | undefined;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(reason);
  }
}

function fromBytes(bytes: Buffer, contentType: string, cacheControl: string, lastModified: Date): Representation {
  return { contentType, cacheControl, etag: strongEtag(bytes), lastModified, size: bytes.length, bytes, file: undefined };
}

function fromFile(file: StoredFile, contentType: string, cacheControl: string): Representation {
  return { contentType, cacheControl, etag: file.etag, lastModified: file.lastModified, size: file.size, bytes: file.bytes, file };
}

interface LiveSource {
  readonly etag: string;
  readonly playlist: MediaPlaylist;
  readonly timeline: LiveTimeline;
}

export async function createOriginServer(options: OriginServerOptions): Promise<OriginServer> {
  if (typeof options.contentDir !== 'string' || options.contentDir === '') throw new TypeError('createOriginServer: contentDir must be a directory');
  const liveWindow = options.liveWindow ?? DEFAULT_LIVE_WINDOW;
  if (!Number.isInteger(liveWindow) || liveWindow < 1 || liveWindow > 1000) {
    throw new TypeError(`createOriginServer: liveWindow must be a whole number 1..1000, got ${liveWindow}`);
  }
  const clock = options.clock ?? Date.now;
  const id = options.id ?? 'origin';
  const log = options.logger ?? createLogger('origin', id);
  const contentStats = await stat(options.contentDir).catch(() => undefined);
  if (!contentStats?.isDirectory()) {
    throw new TypeError(`createOriginServer: content directory ${options.contentDir} does not exist (make it with \`streamedge content\`)`);
  }
  const store: FileStore = await createFileStore({
    root: options.contentDir,
    maxCachedBytes: options.maxCachedBytes,
    maxCachedFileBytes: options.maxCachedFileBytes,
  });
  const metrics = createOriginMetrics();
  const liveSources = new Map<string, LiveSource>();
  let draining = false;
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

  const serveFile = async (segments: readonly string[], cacheControl?: string): Promise<Representation> => {
    const contentType = CONTENT_TYPES[extname(segments[segments.length - 1]!)];
    if (!contentType) throw new HttpError(404, 'not found');
    const file = await openFile(segments);
    return fromFile(file, contentType, cacheControl ?? (contentType === CONTENT_TYPES['.m3u8'] ? CACHE_CONTROL.vodPlaylist : CACHE_CONTROL.segment));
  };

  const liveSourceOf = async (channelId: string, rendition: string): Promise<{ source: string; live: LiveSource }> => {
    const channel = LIVE_CHANNELS.find((candidate) => candidate.id === channelId);
    if (!channel) throw new HttpError(404, 'no such live channel');
    const file = await openFile(['vod', channel.source, rendition, 'index.m3u8']);
    const key = `${channel.source}/${rendition}`;
    let live = liveSources.get(key);
    if (live?.etag === file.etag) await file.release();
    else {
      const bytes = file.bytes ?? (file.size === 0 ? Buffer.alloc(0) : await buffer(file.body(0, file.size - 1)));
      await file.release();
      const playlist = parseMediaPlaylist(bytes.toString('utf8'));
      if (playlist.mapUri) throw new HttpError(500, 'live channels loop MPEG-TS sources only');
      live = { etag: file.etag, playlist, timeline: { segmentDurationsMs: playlist.segments.map((s) => s.durationMs) } };
      liveSources.set(key, live);
    }
    return { source: channel.source, live };
  };

  const route = async (segments: readonly string[]): Promise<{ kind: RouteKind; representation: Representation }> => {
    const [area, ...rest] = segments;
    const now = new Date(clock());
    if (area === 'healthz' && rest.length === 0) {
      return { kind: 'health', representation: fromBytes(Buffer.from('ok\n'), 'text/plain; charset=utf-8', CACHE_CONTROL.uncacheable, now) };
    }
    if (area === 'readyz' && rest.length === 0) {
      if (draining) throw new HttpError(503, 'draining');
      if ((await catalogIndex()).assets.length === 0) throw new HttpError(503, 'no content: run `streamedge content`');
      return { kind: 'health', representation: fromBytes(Buffer.from('ready\n'), 'text/plain; charset=utf-8', CACHE_CONTROL.uncacheable, now) };
    }
    if (area === 'metrics' && rest.length === 0) {
      const text = Buffer.from(await metrics.registry.metrics());
      return { kind: 'metrics', representation: fromBytes(text, metrics.registry.contentType, CACHE_CONTROL.uncacheable, now) };
    }
    if (area === 'catalog.json' && rest.length === 0) {
      const index = await catalogIndex();
      const body = Buffer.from(`${JSON.stringify({ assets: index.assets })}\n`);
      return { kind: 'catalog', representation: fromBytes(body, 'application/json; charset=utf-8', CACHE_CONTROL.catalog, index.updatedAt) };
    }
    if (area === 'vod' && (rest.length === 2 || rest.length === 3)) {
      const representation = await serveFile(segments);
      return { kind: representation.contentType === CONTENT_TYPES['.m3u8'] ? 'vod-playlist' : 'vod-segment', representation };
    }
    if (area === 'live' && rest.length === 2 && rest[1] === 'master.m3u8') {
      const channel = LIVE_CHANNELS.find((candidate) => candidate.id === rest[0]);
      if (!channel) throw new HttpError(404, 'no such live channel');
      // The ladder is the source's: same renditions, same codecs, relative URIs.
      return { kind: 'live-playlist', representation: await serveFile(['vod', channel.source, 'master.m3u8'], CACHE_CONTROL.vodPlaylist) };
    }
    if (area === 'live' && rest.length === 3) {
      const [channelId, rendition, name] = rest as [string, string, string];
      if (name === 'index.m3u8') {
        const { live } = await liveSourceOf(channelId, rendition);
        const window = liveWindowAt(live.timeline, now.getTime(), liveWindow);
        const text = renderLivePlaylist(window, { targetDuration: live.playlist.targetDuration, uriOf: (segment) => `seg-${segment.msn}.ts` });
        return {
          kind: 'live-playlist',
          representation: fromBytes(Buffer.from(text), CONTENT_TYPES['.m3u8']!, CACHE_CONTROL.livePlaylist, new Date(window.updatedAtMs)),
        };
      }
      const msn = LIVE_SEGMENT.exec(name)?.[1];
      if (msn !== undefined) {
        const { source, live } = await liveSourceOf(channelId, rendition);
        const segment = liveSegment(live.timeline, Number(msn), now.getTime());
        if (!segment) throw new HttpError(404, 'live segment not available (yet)');
        const file = await openFile(['vod', source, rendition, live.playlist.segments[segment.sourceIndex]!.uri]);
        const representation = fromFile(file, CONTENT_TYPES['.ts']!, CACHE_CONTROL.segment);
        // Deterministic on every replica: the moment this segment became available.
        return { kind: 'live-segment', representation: { ...representation, lastModified: new Date(segment.startMs + segment.durationMs) } };
      }
    }
    throw new HttpError(404, 'not found');
  };

  const send = async (request: IncomingMessage, response: ServerResponse, representation: Representation): Promise<number> => {
    const { etag, lastModified, size } = representation;
    response.setHeader('ETag', etag);
    response.setHeader('Last-Modified', lastModified.toUTCString());
    response.setHeader('Cache-Control', representation.cacheControl);
    response.setHeader('Accept-Ranges', 'bytes');
    if (isNotModified(request.headers, etag, lastModified)) {
      await representation.file?.release();
      response.writeHead(304).end();
      return 0;
    }
    const range = rangeStillValid(request.headers, etag, lastModified) ? evaluateRange(request.headers.range, size) : { kind: 'full' as const };
    if (range.kind === 'unsatisfiable') {
      await representation.file?.release();
      throw new HttpError(416, 'range not satisfiable', { 'Content-Range': `bytes */${size}` });
    }
    const [start, end, status] = range.kind === 'partial' ? [range.start, range.end, 206] : [0, size - 1, 200];
    const length = end - start + 1;
    response.setHeader('Content-Type', representation.contentType);
    response.setHeader('Content-Length', length);
    if (status === 206) response.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
    response.writeHead(status);
    if (request.method === 'HEAD' || length === 0) {
      await representation.file?.release();
      response.end();
      return 0;
    }
    if (representation.bytes) {
      response.end(representation.bytes.subarray(start, end + 1));
      return length;
    }
    await pipeline(representation.file!.body(start, end), response);
    return length;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    let kind: RouteKind = 'invalid';
    let sent = 0;
    response.setHeader('X-Origin-Id', id);
    response.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.observe(kind, response.statusCode, sent, seconds);
      log.debug({ method: request.method, url: request.url?.slice(0, 200), status: response.statusCode, kind, bytes: sent, ms: Math.round(seconds * 1000) }, 'request');
    });
    try {
      if (request.method !== 'GET' && request.method !== 'HEAD') throw new HttpError(405, 'method not allowed', { Allow: 'GET, HEAD' });
      const target = parseRequestTarget(request.url);
      if (!target.ok) throw new HttpError(target.status, target.reason);
      kind = 'not-found';
      const routed = await route(target.segments);
      kind = routed.kind;
      sent = await send(request, response, routed.representation);
    } catch (error) {
      if (response.headersSent) {
        // Mid-body failure: cut the connection so the client sees an error, never a short object.
        log.warn({ err: (error as Error).message, url: request.url?.slice(0, 200) }, 'response aborted');
        response.destroy();
        return;
      }
      const httpError =
        error instanceof HttpError ? error : (log.error({ err: error, url: request.url?.slice(0, 200) }, 'request failed'), new HttpError(500, 'internal error'));
      const body = Buffer.from(`${httpError.reason}\n`);
      for (const name of ['ETag', 'Last-Modified', 'Accept-Ranges']) response.removeHeader(name);
      response.writeHead(httpError.status, {
        ...httpError.headers,
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': body.length,
        'Cache-Control': CACHE_CONTROL.uncacheable,
        'X-Content-Type-Options': 'nosniff',
      });
      response.end(request.method === 'HEAD' ? undefined : body);
    }
  };

  const server = createServer((request, response) => void handle(request, response));
  return {
    server,
    metrics,
    setDraining: (value) => {
      draining = value;
    },
  };
}

export interface RunningOrigin extends OriginServer {
  readonly url: string;
  readonly port: number;
  close(graceMs?: number): Promise<void>;
}

/** Creates and starts an origin in this process (tests of other components use this). */
export async function startOriginServer(options: OriginServerOptions & { readonly port?: number; readonly host?: string }): Promise<RunningOrigin> {
  const origin = await createOriginServer(options);
  const host = options.host ?? '127.0.0.1';
  const address: AddressInfo = await listen(origin.server, options.port ?? 0, host);
  return {
    ...origin,
    url: baseUrl(host, address.port),
    port: address.port,
    close: (graceMs = 5000) => closeGracefully(origin.server, graceMs),
  };
}

/** The URL clients use: a wildcard bind is reached through loopback. */
export function baseUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}
