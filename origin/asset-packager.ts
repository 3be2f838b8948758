// `streamedge package`: a viewer's own video (or an existing HLS directory) made into a catalog
// asset. Everything is written into a staging directory inside the catalog and renamed into
// `vod/<id>` only when complete, so an interrupted or failed run leaves nothing a viewer can see.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, constants, copyFile, mkdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AAC_LC, ASSET_MARKER, GENERATOR_VERSION, measureBitRates, type AssetManifest } from './catalog-generator.js';
import { extractSubtitlesArgs, packageSourceArgs } from './ffmpeg-recipes.js';
import { runFfmpeg } from './ffmpeg-runner.js';
import { avcCodecFromInitSegment, avcCodecFromTransportStream } from './h264-codec-string.js';
import { validateHlsDirectory } from './hls-directory.js';
import { renderMasterPlaylist, type MediaRendition, type VariantStream } from './master-playlist.js';
import { parseMediaPlaylist, type MediaPlaylist } from './media-playlist.js';
import { chooseLadder, type LadderRung } from './package-ladder.js';
import { DEMO_ASSETS, type SegmentFormat } from './renditions.js';
import { probeSource, SourceError, type SourceProbe } from './source-probe.js';
import { parseWebVtt, segmentWebVtt, WebVttError, type WebVttCue } from './webvtt-segments.js';

/** Asset ids: what the origin and the balancer accept as one path segment, kept short. */
export const ASSET_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const AUDIO_GROUP = 'audio';
const SUBTITLE_GROUP = 'subtitles';
const MPEG_TS_CLOCK = 90_000;

export interface SubtitleFile {
  readonly path: string;
  /** RFC 5646 / ISO 639 language of the file, if known. */
  readonly language: string | undefined;
}

export interface PackagedManifest extends AssetManifest {
  readonly source: 'package' | 'hls-import';
  readonly audio: readonly { readonly name: string; readonly language: string | undefined; readonly uri: string }[];
  readonly subtitles: readonly { readonly name: string; readonly language: string | undefined; readonly uri: string }[];
}

export interface PackageProgress {
  /** 0..1 of the whole run. */
  readonly fraction: number;
  readonly stage: 'probing' | 'encoding' | 'subtitles' | 'measuring' | 'done';
}

interface CommonOptions {
  /** The catalog directory (the origin's `--content`). */
  readonly contentDir: string;
  readonly id: string;
  readonly title?: string;
  /** Replace an asset of the same id (atomically) instead of refusing. */
  readonly replace?: boolean;
  readonly signal?: AbortSignal;
}

export interface PackageSourceOptions extends CommonOptions {
  readonly input: string;
  readonly format?: SegmentFormat;
  readonly segmentSeconds?: number;
  /** Ladder rung names to keep (default: all the source allows). */
  readonly renditions?: readonly string[];
  readonly subtitles?: readonly SubtitleFile[];
  /** x264 preset (default veryfast). */
  readonly preset?: string;
  readonly onProgress?: (progress: PackageProgress) => void;
}

export interface ImportHlsOptions extends CommonOptions {
  readonly hlsDir: string;
}

const X264_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'];

/** Checks the id against the path rules and the demo catalog, whose ids `streamedge content` owns. */
export function checkAssetId(id: string): void {
  if (!ASSET_ID.test(id)) throw new SourceError(`bad --id "${id.slice(0, 80)}": use 1-64 letters, digits, ".", "-" or "_", starting with a letter or digit`);
  if (DEMO_ASSETS.some((asset) => asset.id === id)) {
    throw new SourceError(`bad --id "${id}": reserved for the demo catalog (streamedge content)`);
  }
}

/** An RFC 5646 tag from a file's language tag (`fra` → `fr`); undefined for none or "undetermined". */
export function languageTag(raw: string | undefined): string | undefined {
  if (!raw || /^(und|unk|mis|zxx|mul)$/i.test(raw)) return undefined;
  try {
    return Intl.getCanonicalLocales(raw)[0];
  } catch {
    return undefined;
  }
}

const LANGUAGE_NAMES = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' });

/** Display names, unique within a group (RFC 8216 NAME): the stream title, else the language, else a number. */
export function renditionNames(tracks: readonly { readonly title?: string | undefined; readonly language: string | undefined }[], fallback: string): string[] {
  const taken = new Set<string>();
  return tracks.map((track, i) => {
    const base = (track.title ?? (track.language ? LANGUAGE_NAMES.of(track.language) : undefined) ?? `${fallback} ${i + 1}`).replace(/["\r\n]/g, "'");
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base} ${n}`;
    taken.add(name);
    return name;
  });
}

async function checkReadableFile(path: string, what: string): Promise<void> {
  const stats = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new SourceError(error.code === 'ENOENT' ? `${what} ${path} does not exist` : `${what} ${path} is unreadable (${error.code ?? error.message})`);
  });
  if (!stats.isFile()) throw new SourceError(`${what} ${path} is not a file`);
  await access(path, constants.R_OK).catch(() => {
    throw new SourceError(`${what} ${path} is unreadable (permission denied)`);
  });
  if (stats.size === 0) throw new SourceError(`${what} ${path} is empty`);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Runs `build` in a fresh staging directory under `<content>/.build/`, writes the asset marker
 * last and renames the directory to `<content>/vod/<id>`; on any failure (or abort) the staging
 * directory is removed and the catalog is as it was.
 */
async function stageAsset(options: CommonOptions, build: (stageDir: string) => Promise<PackagedManifest>): Promise<PackagedManifest> {
  const finalDir = join(options.contentDir, 'vod', options.id);
  if (!options.replace && (await exists(finalDir))) throw new SourceError(`asset "${options.id}" already exists in ${options.contentDir} (use --replace)`);
  const buildRoot = join(options.contentDir, '.build');
  const stageDir = join(buildRoot, `package-${options.id}-${process.pid}-${Date.now()}`);
  await mkdir(stageDir, { recursive: true });
  try {
    const manifest = await build(stageDir);
    options.signal?.throwIfAborted();
    await writeFile(join(stageDir, ASSET_MARKER), `${JSON.stringify(manifest, null, 2)}\n`);
    await mkdir(dirname(finalDir), { recursive: true });
    if (await exists(finalDir)) {
      if (!options.replace) throw new SourceError(`asset "${options.id}" appeared in ${options.contentDir} meanwhile (use --replace)`);
      const retired = `${stageDir}-retired`;
      await rename(finalDir, retired);
      await rename(stageDir, finalDir);
      await rm(retired, { recursive: true, force: true });
    } else {
      await rename(stageDir, finalDir);
    }
    return manifest;
  } finally {
    await rm(stageDir, { recursive: true, force: true });
    // Only succeeds when empty, so another run's work in progress is never touched.
    await rmdir(buildRoot).catch(() => {});
  }
}

/** The first presentation timestamp of a media playlist's first segment, in seconds (ffprobe). */
function firstTimestamp(renditionDir: string, playlist: MediaPlaylist): Promise<number> {
  const first = join(renditionDir, playlist.segments[0]!.uri);
  const input = playlist.mapUri ? `concat:${join(renditionDir, playlist.mapUri)}|${first}` : first;
  return new Promise((resolve, reject) => {
    execFile(process.env.FFPROBE ?? 'ffprobe', ['-v', 'error', '-show_entries', 'stream=start_time', '-of', 'csv=p=0', input], (error, stdout) => {
      if (error) return reject(error);
      const starts = stdout.split('\n').filter((line) => line.trim() !== '').map(Number).filter((value) => Number.isFinite(value) && value >= 0);
      resolve(starts.length > 0 ? Math.min(...starts) : 0);
    });
  });
}

async function readPlaylist(dir: string): Promise<MediaPlaylist> {
  return parseMediaPlaylist(await readFile(join(dir, 'index.m3u8'), 'utf8'));
}

interface SubtitleSource {
  readonly name: string;
  readonly language: string | undefined;
  readonly cues: readonly WebVttCue[];
}

async function readSubtitleFile(file: SubtitleFile): Promise<WebVttCue[]> {
  try {
    return parseWebVtt(await readFile(file.path, 'utf8'));
  } catch (error) {
    if (error instanceof WebVttError) throw new SourceError(`--subtitles ${file.path}: ${error.message}`);
    throw error;
  }
}

/** The source's text subtitle streams as WebVTT (one ffmpeg run), then the --subtitles files. */
async function collectSubtitles(options: PackageSourceOptions, probe: SourceProbe, workDir: string): Promise<SubtitleSource[]> {
  const embedded = probe.subtitles.filter((track) => track.isText);
  const extracted = embedded.map((track) => ({ index: track.index, output: join(workDir, `embedded-${track.index}.vtt`) }));
  if (extracted.length > 0) await runFfmpeg({ cwd: workDir, args: extractSubtitlesArgs(options.input, extracted), signal: options.signal });
  const tracks = [
    ...embedded.map((track, i) => ({ title: track.title, language: languageTag(track.language), file: { path: extracted[i]!.output, language: track.language } })),
    ...(options.subtitles ?? []).map((file) => ({ title: undefined, language: languageTag(file.language), file })),
  ];
  const names = renditionNames(tracks, 'Subtitles');
  return Promise.all(tracks.map(async (track, i) => ({ name: names[i]!, language: track.language, cues: await readSubtitleFile(track.file) })));
}

function videoCodecOf(format: SegmentFormat, renditionDir: string, playlist: MediaPlaylist): Promise<string> {
  return format === 'fmp4'
    ? readFile(join(renditionDir, playlist.mapUri ?? 'init.mp4')).then(avcCodecFromInitSegment)
    : readFile(join(renditionDir, playlist.segments[0]!.uri)).then(avcCodecFromTransportStream);
}

function validateSourceOptions(options: PackageSourceOptions): { format: SegmentFormat; segmentSeconds: number; preset: string } {
  const format = options.format ?? 'ts';
  if (format !== 'ts' && format !== 'fmp4') throw new TypeError(`packageSource: format must be ts or fmp4, got ${String(format)}`);
  const segmentSeconds = options.segmentSeconds ?? 4;
  if (!Number.isFinite(segmentSeconds) || segmentSeconds < 1 || segmentSeconds > 30) throw new TypeError(`packageSource: segmentSeconds must be 1..30, got ${segmentSeconds}`);
  const preset = options.preset ?? 'veryfast';
  if (!X264_PRESETS.includes(preset)) throw new TypeError(`packageSource: preset must be one of ${X264_PRESETS.join(', ')}`);
  return { format, segmentSeconds, preset };
}

/** Probes, encodes and packages a source file as a catalog asset (see the file comment). */
export async function packageSource(options: PackageSourceOptions): Promise<PackagedManifest> {
  const { format, segmentSeconds, preset } = validateSourceOptions(options);
  const report = options.onProgress ?? (() => {});
  checkAssetId(options.id);
  await checkReadableFile(options.input, 'input');
  for (const file of options.subtitles ?? []) await checkReadableFile(file.path, '--subtitles');
  report({ fraction: 0, stage: 'probing' });
  const probe = await probeSource(options.input);
  const rungs: LadderRung[] = chooseLadder(probe.video, { renditions: options.renditions });

  return stageAsset(options, async (stageDir) => {
    const audioTags = probe.audio.map((track) => ({ title: track.title, language: languageTag(track.language) }));
    const audioNames = renditionNames(audioTags, 'Audio');
    const audio = probe.audio.map((track, i) => ({ index: track.index, name: `audio-${i + 1}`, label: audioNames[i]!, language: audioTags[i]!.language }));
    const subtitles = await collectSubtitles(options, probe, stageDir);
    report({ fraction: 0.02, stage: 'encoding' });
    await runFfmpeg({
      cwd: stageDir,
      args: packageSourceArgs({ input: options.input, videoIndex: probe.video.index, frameRate: probe.video.frameRate, rungs, audio, format, segmentSeconds, preset }),
      durationSeconds: probe.durationSeconds,
      onProgress: (fraction) => report({ fraction: 0.02 + fraction * 0.93, stage: 'encoding' }),
      signal: options.signal,
    });

    report({ fraction: 0.95, stage: 'measuring' });
    const audioRates = await Promise.all(audio.map(async (track) => measureBitRates(join(stageDir, track.name), await readPlaylist(join(stageDir, track.name)))));
    const audioPeak = Math.max(0, ...audioRates.map((rates) => rates.peak));
    const audioAverage = Math.max(0, ...audioRates.map((rates) => rates.average));
    const variants: (VariantStream & { name: string })[] = [];
    for (const rung of rungs) {
      const dir = join(stageDir, rung.name);
      const playlist = await readPlaylist(dir);
      const rates = await measureBitRates(dir, playlist);
      const video = await videoCodecOf(format, dir, playlist);
      variants.push({
        name: rung.name,
        uri: `${rung.name}/index.m3u8`,
        bandwidth: rates.peak + audioPeak,
        averageBandwidth: rates.average + audioAverage,
        width: rung.width,
        height: rung.height,
        frameRate: probe.video.frameRate,
        codecs: audio.length > 0 ? `${video},${AAC_LC}` : video,
      });
    }

    report({ fraction: 0.97, stage: 'subtitles' });
    const media: MediaRendition[] = audio.map((track, i) => ({
      type: 'AUDIO',
      groupId: AUDIO_GROUP,
      name: track.label,
      language: track.language,
      isDefault: i === 0,
      channels: 2,
      uri: `${track.name}/index.m3u8`,
    }));
    if (subtitles.length > 0) {
      // Cue time 0 is the source's start: where ffmpeg put it on the media's timeline (1.4 s into MPEG-TS).
      const firstVideo = join(stageDir, rungs[0]!.name);
      const mediaStart = (await firstTimestamp(firstVideo, await readPlaylist(firstVideo))) - probe.video.startSeconds;
      const mpegTsOffset = Math.max(0, Math.round(mediaStart * MPEG_TS_CLOCK));
      for (const [i, track] of subtitles.entries()) {
        const name = `subtitles-${i + 1}`;
        const segmented = segmentWebVtt(track.cues, { segmentSeconds, durationSeconds: probe.durationSeconds, mpegTsOffset });
        await mkdir(join(stageDir, name));
        for (const segment of segmented.segments) await writeFile(join(stageDir, name, segment.name), segment.text);
        await writeFile(join(stageDir, name, 'index.m3u8'), segmented.playlist);
        media.push({ type: 'SUBTITLES', groupId: SUBTITLE_GROUP, name: track.name, language: track.language, isDefault: false, uri: `${name}/index.m3u8` });
      }
    }
    for (const track of probe.subtitles) await rm(join(stageDir, `embedded-${track.index}.vtt`), { force: true });
    await writeFile(join(stageDir, 'master.m3u8'), renderMasterPlaylist(variants, { media }));

    const fingerprint = createHash('sha256')
      .update(JSON.stringify({ probe, rungs, format, segmentSeconds, preset, subtitles: (options.subtitles ?? []).map((file) => basename(file.path)) }))
      .digest('hex')
      .slice(0, 16);
    report({ fraction: 1, stage: 'done' });
    return {
      id: options.id,
      title: options.title ?? options.id,
      format,
      durationSeconds: probe.durationSeconds,
      fingerprint,
      generatorVersion: GENERATOR_VERSION,
      variants,
      source: 'package',
      audio: media.filter((m) => m.type === 'AUDIO').map((m) => ({ name: m.name, language: m.language, uri: m.uri })),
      subtitles: media.filter((m) => m.type === 'SUBTITLES').map((m) => ({ name: m.name, language: m.language, uri: m.uri })),
    };
  });
}

/** Validates an existing HLS directory and copies the files its playlists name into the catalog. */
export async function importHlsDirectory(options: ImportHlsOptions): Promise<PackagedManifest> {
  checkAssetId(options.id);
  const report = await validateHlsDirectory(options.hlsDir);
  return stageAsset(options, async (stageDir) => {
    for (const file of report.files) {
      options.signal?.throwIfAborted();
      await mkdir(dirname(join(stageDir, file)), { recursive: true });
      await copyFile(join(options.hlsDir, file), join(stageDir, file));
    }
    return {
      id: options.id,
      title: options.title ?? options.id,
      format: report.format,
      durationSeconds: report.durationSeconds,
      fingerprint: createHash('sha256').update(report.files.join('\n')).digest('hex').slice(0, 16),
      generatorVersion: GENERATOR_VERSION,
      variants: [],
      source: 'hls-import',
      audio: [],
      subtitles: [],
    };
  });
}
