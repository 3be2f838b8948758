// What `streamedge live --metrics-port` exports: segments published per rendition, how long ago the
// newest one was (the signal a stalled encoder shows), ffmpeg's start time and exits, and its encode
// speed from `-progress`. The encoder process ends when ffmpeg does and its supervisor starts a new
// one, so restarts show as changes of streamedge_live_ffmpeg_start_time_seconds.
import { createServer } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { closeGracefully, listen } from '../../infra/runtime/http-lifecycle.js';

/** What the encoder reports as it runs. */
export interface LiveEncoderObserver {
  ffmpegStarted(): void;
  ffmpegExited(code: number | null, signal: NodeJS.Signals | null): void;
  segmentPublished(rendition: string): void;
  /** A chunk of ffmpeg's `-progress` output (key=value lines, possibly cut anywhere). */
  progress(chunk: string): void;
}

export interface LiveMetrics extends LiveEncoderObserver {
  readonly registry: Registry;
}

export interface LiveMetricsOptions {
  readonly channel: string;
  readonly renditions: readonly string[];
  /** Wall clock in ms (tests drive it). */
  readonly clock?: () => number;
}

/** ffmpeg's `-progress` options: a key=value block on stdout every second. */
export const FFMPEG_PROGRESS_ARGS = ['-progress', 'pipe:1', '-stats_period', '1'] as const;

/** A line longer than this is not ffmpeg's progress: what is held of it is dropped. */
const MAX_PROGRESS_LINE = 256;

export function createLiveMetrics(options: LiveMetricsOptions): LiveMetrics {
  if (options.renditions.length === 0) throw new TypeError('createLiveMetrics: at least one rendition');
  const clock = options.clock ?? Date.now;
  const channel = options.channel;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const published = new Counter({ name: 'streamedge_live_segments_published_total', help: 'Segments published into the served playlists, by rendition', labelNames: ['channel', 'rendition'], registers });
  // Until a rendition publishes, its age counts from this process's start, so an encoder that never
  // gets going looks as stalled as one that stopped.
  const startedAt = clock();
  const lastPublished = new Map(options.renditions.map((rendition) => [rendition, startedAt]));
  for (const rendition of options.renditions) published.inc({ channel, rendition }, 0);
  new Gauge({
    name: 'streamedge_live_last_publish_age_seconds',
    help: "Seconds since the rendition's newest segment was published (since the encoder started, before the first)",
    labelNames: ['channel', 'rendition'],
    registers,
    collect() {
      const now = clock();
      for (const [rendition, at] of lastPublished) this.set({ channel, rendition }, (now - at) / 1000);
    },
  });
  const ffmpegStart = new Gauge({ name: 'streamedge_live_ffmpeg_start_time_seconds', help: 'When the running ffmpeg was started (Unix time); a change is a restart', labelNames: ['channel'], registers });
  const ffmpegUp = new Gauge({ name: 'streamedge_live_ffmpeg_running', help: '1 while ffmpeg runs', labelNames: ['channel'], registers });
  const exits = new Counter({ name: 'streamedge_live_ffmpeg_exits_total', help: 'ffmpeg exits, by exit code or signal (the encoder process then ends)', labelNames: ['channel', 'status'], registers });
  const speed = new Gauge({ name: 'streamedge_live_encode_speed_ratio', help: "ffmpeg's encode speed as a multiple of real time (1 keeps up; below 1 falls behind)", labelNames: ['channel'], registers });
  const fps = new Gauge({ name: 'streamedge_live_encode_frames_per_second', help: "ffmpeg's output frame rate", labelNames: ['channel'], registers });
  const dropped = new Gauge({ name: 'streamedge_live_encode_dropped_frames', help: 'Frames ffmpeg dropped since it started', labelNames: ['channel'], registers });
  ffmpegUp.set({ channel }, 0);

  let partial = '';
  const progressLine = (line: string): void => {
    const [key, value] = line.trim().split('=', 2);
    if (value === undefined) return;
    // "speed=1.03x", "fps=30.42", "drop_frames=0"; "N/A" before ffmpeg knows.
    const number = Number.parseFloat(value);
    if (!Number.isFinite(number) || number < 0) return;
    if (key === 'speed' && /^\s*[\d.]+x\s*$/.test(value)) speed.set({ channel }, number);
    else if (key === 'fps') fps.set({ channel }, number);
    else if (key === 'drop_frames') dropped.set({ channel }, number);
  };

  return {
    registry,
    ffmpegStarted() {
      ffmpegStart.set({ channel }, clock() / 1000);
      ffmpegUp.set({ channel }, 1);
    },
    ffmpegExited(code, signal) {
      ffmpegUp.set({ channel }, 0);
      exits.inc({ channel, status: signal ?? String(code) });
    },
    segmentPublished(rendition) {
      if (!lastPublished.has(rendition)) throw new TypeError(`live metrics: unknown rendition ${rendition}`);
      lastPublished.set(rendition, clock());
      published.inc({ channel, rendition });
    },
    progress(chunk) {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      if (partial.length > MAX_PROGRESS_LINE) partial = '';
      for (const line of lines) progressLine(line);
    },
  };
}

export interface LiveMetricsServer {
  readonly url: string;
  close(): Promise<void>;
}

/** GET /metrics on `host:port`; anything else is 404, another method 405. */
export async function serveLiveMetrics(metrics: LiveMetrics, port: number, host: string): Promise<LiveMetricsServer> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics') return void response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: only /metrics\n');
    if (request.method !== 'GET' && request.method !== 'HEAD') return void response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(request.method === 'HEAD' ? undefined : text),
      (error: Error) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${error.message}\n`),
    );
  });
  // Bounds on what a scraper can make this process hold.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.maxHeadersCount = 50;
  server.maxConnections = 32;
  const address = await listen(server, port, host);
  // The encoder's life is ffmpeg's: this port must not keep the process up once ffmpeg has gone.
  server.unref();
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { url: `http://${shown}:${address.port}`, close: () => closeGracefully(server, 2000) };
}
