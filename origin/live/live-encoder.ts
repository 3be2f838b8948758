// Runs the live encode: ffmpeg writes each rung's segments into a private staging directory
// (`live/<id>/.encoder`, never served: the origin refuses dot-names) and lists each one once it is
// complete; this process moves listed segments into the served rendition directories and rewrites
// the playlists, so the origins only ever see finished segments and whole playlists. In
// Low-Latency mode ffmpeg writes each rung as fragmented MP4 to a pipe instead, and every
// fragment is published as a part the moment it arrives.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, open, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../infra/runtime/logger.js';
import type { Readable } from 'node:stream';
import { avcCodecFromInitSegment, avcCodecFromTransportStream } from '../h264-codec-string.js';
import { renderMasterPlaylist } from '../master-playlist.js';
import type { Rendition } from '../renditions.js';
import { CHANNEL_MARKER, type ChannelManifest } from './live-channel-layout.js';
import { createFmp4FragmentReader } from './fmp4-fragment-reader.js';
import { renditionReportOf } from './live-playlist-window.js';
import { liveEncodeArgs, LIVE_FRAME_RATE, LL_FIRST_PIPE, parseSegmentList, SEGMENT_LIST } from './live-ffmpeg-args.js';
import { LiveInputError, type LiveInput } from './live-input.js';
import { openLiveRenditionWriter, PLAYLIST_NAME, writeFileAtomically, type LiveRenditionWriter } from './live-rendition-writer.js';
import { isProcessAlive } from '../../infra/runtime/process-alive.js';
import { FFMPEG_PROGRESS_ARGS, type LiveEncoderObserver } from './live-metrics.js';

const STAGING = '.encoder';
const POLL_MS = 200;

export interface LiveEncoderOptions {
  readonly contentDir: string;
  readonly id: string;
  readonly title?: string;
  readonly input: LiveInput;
  readonly renditions: readonly Rendition[];
  readonly segmentSeconds: number;
  readonly windowSize: number;
  readonly preset: string;
  readonly clockOverlay: boolean;
  /** Low-Latency HLS with parts of about this many ms (CMAF fMP4); plain MPEG-TS segments when absent. */
  readonly partTargetMs?: number;
  readonly log: Logger;
  readonly ffmpeg?: string;
  /** Told of ffmpeg's start, progress and exit and of each segment published (--metrics-port). */
  readonly observer?: LiveEncoderObserver;
}

export interface LiveEncoder {
  readonly ffmpegPid: number;
  /** Resolves once every rendition has a segment and the master playlist is written. */
  readonly publishing: Promise<void>;
  /** Resolves when ffmpeg has exited and everything it finished is published. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly stderr: string }>;
  /** SIGTERM: ffmpeg closes its current segments, which are published, then it exits. */
  stop(): Promise<void>;
}

/**
 * One encoder per channel: a second would number segments over the first one's. An ffmpeg left
 * running by an encoder that was killed outright (it still writes into the staging directory,
 * its working directory) is stopped first.
 */
async function claimStaging(stagingDir: string, channel: string): Promise<void> {
  const owner = Number(await readFile(join(stagingDir, 'pid'), 'utf8').catch(() => ''));
  if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isProcessAlive(owner)) {
    throw new LiveInputError(`channel "${channel}" is already being encoded by process ${owner}`);
  }
  const orphan = Number(await readFile(join(stagingDir, 'ffmpeg.pid'), 'utf8').catch(() => ''));
  if (Number.isInteger(orphan) && orphan > 0 && (await readlink(`/proc/${orphan}/cwd`).catch(() => '')) === stagingDir) {
    process.kill(orphan, 'SIGKILL');
    for (let waited = 0; isProcessAlive(orphan) && waited < 5000; waited += 50) await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  }
  await rm(stagingDir, { recursive: true, force: true });
  await mkdir(stagingDir, { recursive: true });
  await writeFile(join(stagingDir, 'pid'), String(process.pid));
}

/**
 * PART-TARGET for a requested part length: ffmpeg closes a fragment once it holds at least the
 * requested duration, so parts are that many frames rounded up, and the target is their length.
 */
export function advertisedPartTargetMs(requestedMs: number): number {
  return Math.ceil((Math.ceil((requestedMs * LIVE_FRAME_RATE) / 1000 - 1e-9) * 1000) / LIVE_FRAME_RATE);
}

export async function startLiveEncoder(options: LiveEncoderOptions): Promise<LiveEncoder> {
  const { log, renditions, partTargetMs } = options;
  if (renditions.length === 0) throw new TypeError('startLiveEncoder: at least one rendition');
  if (partTargetMs !== undefined && (!Number.isInteger(partTargetMs) || partTargetMs < 100 || partTargetMs > (options.segmentSeconds * 1000) / 2)) {
    throw new TypeError(`startLiveEncoder: partTargetMs must be a whole number from 100 to half a segment, got ${partTargetMs}`);
  }
  const lowLatency = partTargetMs !== undefined;
  const channelDir = join(options.contentDir, 'live', options.id);
  const stagingDir = join(channelDir, STAGING);
  await mkdir(channelDir, { recursive: true });
  await claimStaging(stagingDir, options.id);
  const writers = new Map<string, LiveRenditionWriter>();
  for (const rung of renditions) {
    await mkdir(join(channelDir, rung.name), { recursive: true });
    await mkdir(join(stagingDir, rung.name));
    writers.set(rung.name, await openLiveRenditionWriter({
      dir: join(channelDir, rung.name),
      targetDuration: options.segmentSeconds,
      windowSize: options.windowSize,
      ...(lowLatency && {
        partTargetMs: advertisedPartTargetMs(partTargetMs),
        renditionReports: () =>
          renditions
            .filter((other) => other.name !== rung.name && writers.has(other.name))
            .flatMap((other) => renditionReportOf(`../${other.name}/${PLAYLIST_NAME}`, writers.get(other.name)!.window()) ?? []),
      }),
    }));
  }
  const manifest: ChannelManifest = { id: options.id, title: options.title ?? options.id, ...(lowLatency ? { format: 'fmp4', lowLatency: true } : { format: 'ts' }) };
  await writeFileAtomically(join(channelDir, CHANNEL_MARKER), `${JSON.stringify(manifest, null, 2)}\n`);

  const ffmpeg = options.ffmpeg ?? process.env.FFMPEG ?? 'ffmpeg';
  const args = liveEncodeArgs({ input: options.input, rungs: renditions, segmentSeconds: options.segmentSeconds, preset: options.preset, clockOverlay: options.clockOverlay, partTargetMs });
  const { observer } = options;
  const progressArgs = observer ? FFMPEG_PROGRESS_ARGS : [];
  const pipes = renditions.map(() => (lowLatency ? 'pipe' : 'ignore') as 'pipe' | 'ignore');
  const child: ChildProcess = spawn(ffmpeg, ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'warning', ...progressArgs, ...args], { cwd: stagingDir, stdio: ['ignore', observer ? 'pipe' : 'ignore', 'pipe', ...pipes] });
  child.stdout?.on('data', (chunk: Buffer) => observer?.progress(chunk.toString()));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    stderr = (stderr + text).slice(-4000);
    for (const line of text.split('\n').filter((candidate) => candidate.trim() !== '')) log.warn({ ffmpeg: line.slice(0, 300) }, 'ffmpeg');
  });
  const spawned = new Promise<void>((resolveSpawn, reject) => {
    child.once('spawn', resolveSpawn);
    child.once('error', (error) => reject(new Error(`could not run ${ffmpeg}: ${error.message} (install ffmpeg or set FFMPEG)`)));
  });
  const ffmpegExit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => child.once('exit', (code, signal) => resolveExit({ code, signal })));
  await spawned;
  observer?.ffmpegStarted();
  await writeFile(join(stagingDir, 'ffmpeg.pid'), String(child.pid));

  // Each rung's list is read from where the last read stopped; one poll at a time.
  const offsets = new Map(renditions.map((rung) => [rung.name, 0]));
  /** Each rung's CODECS string, read from its first segment (plain) or its init segment (Low-Latency). */
  const codecs = new Map<string, string>();
  /** Rungs with something listed in their playlist. */
  const started = new Set<string>();
  let resolvePublishing!: () => void;
  let rejectPublishing!: (error: Error) => void;
  const publishing = new Promise<void>((resolvePromise, reject) => {
    resolvePublishing = resolvePromise;
    rejectPublishing = reject;
  });
  publishing.catch(() => {});

  const writeMaster = async (): Promise<void> => {
    const variants = renditions.map((rung) => ({
      uri: `${rung.name}/${PLAYLIST_NAME}`,
      bandwidth: Math.round(rung.videoBitrate * 1.1) + rung.audioBitrate,
      averageBandwidth: rung.videoBitrate + rung.audioBitrate,
      width: rung.width,
      height: rung.height,
      frameRate: LIVE_FRAME_RATE,
      codecs: `${codecs.get(rung.name)!},mp4a.40.2`,
    }));
    await writeFileAtomically(join(channelDir, 'master.m3u8'), renderMasterPlaylist(variants));
  };

  // Wall-clock time of the output timeline's zero, fixed by the first segment finished: every
  // rendition's segment at the same place gets the same program date-time.
  let timelineZeroMs: number | undefined;
  const pollRung = async (rung: Rendition): Promise<void> => {
    const listPath = join(stagingDir, rung.name, SEGMENT_LIST);
    const handle = await open(listPath, 'r').catch(() => undefined);
    if (!handle) return;
    let text: string;
    try {
      const { size } = await handle.stat();
      const from = offsets.get(rung.name)!;
      if (size <= from) return;
      const buffer = Buffer.alloc(size - from);
      await handle.read(buffer, 0, buffer.length, from);
      text = buffer.toString('utf8');
    } finally {
      await handle.close();
    }
    const { segments, consumed } = parseSegmentList(text);
    offsets.set(rung.name, offsets.get(rung.name)! + consumed);
    for (const segment of segments) {
      const file = join(stagingDir, rung.name, segment.file);
      if (!codecs.has(rung.name)) codecs.set(rung.name, avcCodecFromTransportStream(await readFile(file)));
      started.add(rung.name);
      timelineZeroMs ??= Date.now() - (segment.startMs + segment.durationMs);
      const entry = await writers.get(rung.name)!.publish(file, segment.durationMs, timelineZeroMs + segment.startMs);
      observer?.segmentPublished(rung.name);
      log.debug({ rendition: rung.name, msn: entry.msn, ms: entry.durationMs }, 'segment published');
    }
  };

  let ready = false;
  const announceWhenStarted = async (): Promise<void> => {
    if (!ready && started.size === renditions.length) {
      await writeMaster();
      ready = true;
      resolvePublishing();
    }
  };
  const poll = async (): Promise<void> => {
    for (const rung of renditions) await pollRung(rung);
    await announceWhenStarted();
  };

  let polling = Promise.resolve();
  const pollFailed = (error: Error): void => {
    log.error({ err: error.message }, 'could not publish a segment; stopping the encoder');
    rejectPublishing(error);
    child.kill('SIGTERM');
  };

  /**
   * Low-Latency: each rung's pipe is split into its init segment and parts, published in order;
   * the pipe is paused while a chunk's parts are written, so nothing queues up in memory.
   */
  const consumeRungPipe = (rung: Rendition, stream: Readable): Promise<void> => {
    const reader = createFmp4FragmentReader();
    const writer = writers.get(rung.name)!;
    let publishingChunk = Promise.resolve();
    const publishUnits = async (chunk: Buffer): Promise<void> => {
      for (const unit of reader.push(chunk)) {
        if (unit.kind === 'init') {
          codecs.set(rung.name, avcCodecFromInitSegment(unit.bytes));
          await writer.publishInit(unit.bytes);
          continue;
        }
        // Both ends rounded, so parts' ms durations add up to their segment's exactly.
        const startMs = Math.round(unit.startSeconds * 1000);
        const durationMs = Math.round((unit.startSeconds + unit.durationSeconds) * 1000) - startMs;
        timelineZeroMs ??= Date.now() - (startMs + durationMs);
        const newestBefore = writer.window().segments.at(-1)?.msn;
        const part = await writer.publishPart(unit.bytes, { startMs, durationMs, independent: unit.independent }, timelineZeroMs + startMs);
        // A part that starts a segment closes the one before it: that segment is published.
        if (writer.window().segments.at(-1)?.msn !== newestBefore) observer?.segmentPublished(rung.name);
        started.add(rung.name);
        log.debug({ rendition: rung.name, part: part.uri, ms: durationMs }, 'part published');
      }
      await announceWhenStarted();
    };
    stream.on('data', (chunk: Buffer) => {
      stream.pause();
      publishingChunk = publishingChunk.then(() => publishUnits(chunk)).then(
        () => void stream.resume(),
        (error: Error) => {
          stream.destroy(); // ffmpeg gets EPIPE rather than block on a pipe nobody reads
          pollFailed(error);
        },
      );
    });
    return new Promise<void>((resolveEnd) => stream.once('close', resolveEnd)).then(() => publishingChunk);
  };
  const pipesDrained = lowLatency ? Promise.all(renditions.map((rung, i) => consumeRungPipe(rung, child.stdio[LL_FIRST_PIPE + i] as Readable))) : Promise.resolve([]);

  const timer = lowLatency
    ? undefined
    : setInterval(() => {
        polling = polling.then(poll).catch(pollFailed);
      }, POLL_MS);

  const exited = ffmpegExit.then(async ({ code, signal }) => {
    clearInterval(timer);
    observer?.ffmpegExited(code, signal);
    // What ffmpeg finished before exiting (on SIGTERM it closes its open segments) is still published.
    if (lowLatency) await pipesDrained;
    else polling = polling.then(poll).catch(pollFailed);
    await polling;
    if (!ready) rejectPublishing(new Error(`ffmpeg exited (${code ?? signal}) before the first segments:\n${stderr.trim()}`));
    await Promise.all(['pid', 'ffmpeg.pid'].map((name) => rm(join(stagingDir, name), { force: true })));
    return { code, signal, stderr };
  });

  return {
    ffmpegPid: child.pid!,
    publishing,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
