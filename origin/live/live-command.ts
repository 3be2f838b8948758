import { resolve } from 'node:path';
import { OptionError, parseCommandOptions } from '../../infra/runtime/command-options.js';
import { waitForShutdownSignal } from '../../infra/runtime/http-lifecycle.js';
import { createLogger } from '../../infra/runtime/logger.js';
import { supportsDrawtext } from '../ffmpeg-runner.js';
import { LIVE_LADDER } from '../renditions.js';
import { startLiveEncoder } from './live-encoder.js';
import { checkChannelId, LiveInputError, resolveLiveInput } from './live-input.js';
import { createLiveMetrics, serveLiveMetrics } from './live-metrics.js';

const OPTIONS = {
  input: { kind: 'string', description: 'a video file (looped for ever) or lavfi:<filter graph>, e.g. lavfi:testsrc2=size=1280x720:rate=30', required: true },
  id: { kind: 'string', description: 'channel id: served as /live/<id>/master.m3u8', required: true },
  content: { kind: 'string', description: "catalog directory every origin replica serves (the origins' --content)", default: './content' },
  title: { kind: 'string', description: "title shown in the player's picker (default: the id)" },
  rendition: { kind: 'string', description: 'ladder rung to encode (repeat for several)', multiple: true, choices: LIVE_LADDER.map((r) => r.name), default: ['240p', '480p'] },
  'segment-seconds': { kind: 'integer', description: 'segment length in seconds (the playlists\' target duration)', default: 2, min: 1, max: 10 },
  window: { kind: 'integer', description: 'segments in each live playlist', default: 6, min: 3, max: 100 },
  'low-latency': { kind: 'boolean', description: 'Low-Latency HLS: CMAF fMP4 parts, blocking playlist reload, preload hints (default: plain MPEG-TS segments)' },
  'part-seconds': { kind: 'number', description: 'LL-HLS part length in seconds (rounded up to whole frames at 30 fps; at most half a segment)', default: 0.333, min: 0.1, max: 1 },
  preset: { kind: 'string', description: 'x264 preset (CPU against quality)', default: 'superfast', choices: ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium'] },
  'metrics-port': { kind: 'port', description: 'serve Prometheus /metrics on this port (0 picks a free one; default: none)' },
  'metrics-host': { kind: 'string', description: 'address the /metrics port binds', default: '127.0.0.1' },
} as const;

export async function main(argv: readonly string[]): Promise<void> {
  const options = parseCommandOptions('live', 'Encode a live channel in real time (H.264 + AAC ABR, MPEG-TS segments or LL-HLS CMAF parts) into the catalog the origins serve.', OPTIONS, argv);
  const input = await resolveLiveInput(options.input).catch((error: unknown) => {
    throw error instanceof LiveInputError ? new OptionError('--input', error.message) : error;
  });
  try {
    checkChannelId(options.id);
  } catch (error) {
    throw new OptionError('--id', (error as Error).message);
  }
  const partTargetMs = Math.round(options['part-seconds'] * 1000);
  if (options['low-latency'] && partTargetMs > (options['segment-seconds'] * 1000) / 2) {
    throw new OptionError('--part-seconds', `must be at most half a segment (${options['segment-seconds'] / 2} s), got ${options['part-seconds']}`);
  }
  const log = createLogger('live', options.id);
  const renditions = LIVE_LADDER.filter((rung) => options.rendition.includes(rung.name));
  const metrics = options['metrics-port'] === undefined ? undefined : createLiveMetrics({ channel: options.id, renditions: renditions.map((rung) => rung.name) });
  const metricsServer = metrics && (await serveLiveMetrics(metrics, options['metrics-port']!, options['metrics-host']).catch((error: Error) => {
    throw new OptionError('--metrics-port', `cannot listen on ${options['metrics-host']}:${options['metrics-port']}: ${error.message}`);
  }));
  if (metricsServer) log.info({ url: `${metricsServer.url}/metrics` }, 'metrics');
  const clockOverlay = input.kind === 'lavfi' && (await supportsDrawtext());
  if (input.kind === 'lavfi' && !clockOverlay) log.warn('this ffmpeg has no drawtext (libfreetype, a font): the wall clock is not burnt in');
  const encoder = await startLiveEncoder({
    contentDir: resolve(options.content),
    id: options.id,
    observer: metrics,
    title: options.title,
    input,
    renditions,
    segmentSeconds: options['segment-seconds'],
    windowSize: options.window,
    preset: options.preset,
    clockOverlay,
    ...(options['low-latency'] && { partTargetMs }),
    log,
  }).catch((error: unknown) => {
    throw error instanceof LiveInputError ? new OptionError('--id', error.message) : error;
  });
  log.info({ ffmpegPid: encoder.ffmpegPid, input: input.kind === 'file' ? input.path : `lavfi:${input.graph}`, renditions: options.rendition, content: resolve(options.content) }, 'encoding');

  const outcome = await Promise.race([
    encoder.publishing.then(() => 'publishing' as const, (error: Error) => error),
    encoder.exited.then(() => 'exited' as const),
  ]);
  if (outcome === 'publishing') {
    log.info({ ffmpegPid: encoder.ffmpegPid, master: `/live/${options.id}/master.m3u8` }, 'publishing');
  }
  const ended = await Promise.race([waitForShutdownSignal().then((signal) => ({ signal })), encoder.exited.then((exit) => ({ exit }))]);
  if ('signal' in ended) {
    log.info({ signal: ended.signal }, 'stopping');
    await encoder.stop();
    await metricsServer?.close();
    log.info('stopped');
    return;
  }
  // ffmpeg never ends by itself on a looped or generated input: whoever supervises this restarts it.
  const { code, signal, stderr } = ended.exit;
  throw new Error(`ffmpeg exited (${code ?? signal}) while encoding channel ${options.id}${stderr.trim() ? `:\n${stderr.trim()}` : ''}`);
}
