// Runs the live encode: ffmpeg writes each rung's segments into a private staging directory
// (`live/<id>/.encoder`, never served: the origin refuses dot-names) and lists each one once it is
// complete; this process moves listed segments into the served rendition directories and rewrites
// the playlists, so the origins only ever see finished segments and whole playlists.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, open, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../infra/runtime/logger.js';
import { avcCodecFromTransportStream } from '../h264-codec-string.js';
import { renderMasterPlaylist } from '../master-playlist.js';
import type { Rendition } from '../renditions.js';
import { CHANNEL_MARKER, type ChannelManifest } from './live-channel-layout.js';
import { liveEncodeArgs, LIVE_FRAME_RATE, parseSegmentList, SEGMENT_LIST } from './live-ffmpeg-args.js';
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

export async function startLiveEncoder(options: LiveEncoderOptions): Promise<LiveEncoder> {
  const { log, renditions } = options;
  if (renditions.length === 0) throw new TypeError('startLiveEncoder: at least one rendition');
  const channelDir = join(options.contentDir, 'live', options.id);
  const stagingDir = join(channelDir, STAGING);
  await mkdir(channelDir, { recursive: true });
  await claimStaging(stagingDir, options.id);
  const writers = new Map<string, LiveRenditionWriter>();
  for (const rung of renditions) {
    await mkdir(join(channelDir, rung.name), { recursive: true });
    await mkdir(join(stagingDir, rung.name));
    writers.set(rung.name, await openLiveRenditionWriter({ dir: join(channelDir, rung.name), targetDuration: options.segmentSeconds, windowSize: options.windowSize }));
  }
  const manifest: ChannelManifest = { id: options.id, title: options.title ?? options.id, format: 'ts' };
  await writeFileAtomically(join(channelDir, CHANNEL_MARKER), `${JSON.stringify(manifest, null, 2)}\n`);

  const ffmpeg = options.ffmpeg ?? process.env.FFMPEG ?? 'ffmpeg';
  const args = liveEncodeArgs({ input: options.input, rungs: renditions, segmentSeconds: options.segmentSeconds, preset: options.preset, clockOverlay: options.clockOverlay });
  const { observer } = options;
  const progressArgs = observer ? FFMPEG_PROGRESS_ARGS : [];
  const child: ChildProcess = spawn(ffmpeg, ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'warning', ...progressArgs, ...args], { cwd: stagingDir, stdio: ['ignore', observer ? 'pipe' : 'ignore', 'pipe'] });
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
  const firstSegment = new Map<string, Buffer>();
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
      codecs: `${avcCodecFromTransportStream(firstSegment.get(rung.name)!)},mp4a.40.2`,
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
      if (!firstSegment.has(rung.name)) firstSegment.set(rung.name, await readFile(file));
      timelineZeroMs ??= Date.now() - (segment.startMs + segment.durationMs);
      const entry = await writers.get(rung.name)!.publish(file, segment.durationMs, timelineZeroMs + segment.startMs);
      observer?.segmentPublished(rung.name);
      log.debug({ rendition: rung.name, msn: entry.msn, ms: entry.durationMs }, 'segment published');
    }
  };

  let ready = false;
  const poll = async (): Promise<void> => {
    for (const rung of renditions) await pollRung(rung);
    if (!ready && firstSegment.size === renditions.length) {
      await writeMaster();
      ready = true;
      resolvePublishing();
    }
  };

  let polling = Promise.resolve();
  const pollFailed = (error: Error): void => {
    log.error({ err: error.message }, 'could not publish a segment; stopping the encoder');
    rejectPublishing(error);
    child.kill('SIGTERM');
  };
  const timer = setInterval(() => {
    polling = polling.then(poll).catch(pollFailed);
  }, POLL_MS);

  const exited = ffmpegExit.then(async ({ code, signal }) => {
    clearInterval(timer);
    observer?.ffmpegExited(code, signal);
    // What ffmpeg finished before exiting (on SIGTERM it closes its open segments) is still published.
    polling = polling.then(poll).catch(pollFailed);
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
