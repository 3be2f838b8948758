// What a source file holds, read with ffprobe and validated like any external input: the packager
// decides its ladder, audio renditions and subtitle renditions from this and nothing else.
import { execFile } from 'node:child_process';

export interface VideoTrack {
  /** Index among the file's video streams (ffmpeg's `0:v:N`). */
  readonly index: number;
  readonly width: number;
  readonly height: number;
  /** Frames per second, from the stream's average (else nominal) frame rate. */
  readonly frameRate: number;
  /** Display width / height (sample aspect ratio applied). */
  readonly displayAspect: number;
  /** Seconds after the file's start at which the video begins (ffmpeg rebases the file's start to 0). */
  readonly startSeconds: number;
}

export interface TextTrack {
  /** Index among the file's streams of its type (ffmpeg's `0:a:N` / `0:s:N`). */
  readonly index: number;
  /** The stream's language tag as written in the file, or undefined. */
  readonly language: string | undefined;
  readonly title: string | undefined;
}

export interface AudioTrack extends TextTrack {
  readonly channels: number;
}

export interface SubtitleTrack extends TextTrack {
  readonly codec: string;
  /** Text subtitles can become WebVTT; bitmap ones (PGS, DVD, DVB) cannot. */
  readonly isText: boolean;
}

export interface SourceProbe {
  readonly durationSeconds: number;
  readonly video: VideoTrack;
  readonly audio: readonly AudioTrack[];
  readonly subtitles: readonly SubtitleTrack[];
}

/** The source cannot be packaged: the message says why, in one line, for the viewer of a terminal. */
export class SourceError extends Error {
  override readonly name = 'SourceError';
}

const TEXT_SUBTITLE_CODECS = new Set(['subrip', 'srt', 'ass', 'ssa', 'webvtt', 'mov_text', 'text']);
// Attached cover art is reported as a video stream; it is not the picture.
const isCoverArt = (stream: Record<string, unknown>): boolean => (stream.disposition as Record<string, unknown> | undefined)?.attached_pic === 1;

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function positiveNumber(value: unknown): number | undefined {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) && number > 0 ? number : undefined;
}

/** `30000/1001` → 29.97; `0/0` and garbage → undefined. */
function ratio(value: unknown, separator = '/'): number | undefined {
  if (typeof value !== 'string') return undefined;
  const [top, bottom] = value.split(separator).map(Number);
  return top !== undefined && bottom !== undefined && top > 0 && bottom > 0 && Number.isFinite(top / bottom) ? top / bottom : undefined;
}

function tag(stream: Record<string, unknown>, name: string): string | undefined {
  const tags = record(stream.tags);
  const value = tags?.[name] ?? tags?.[name.toUpperCase()];
  return typeof value === 'string' && value.trim() !== '' && value.length <= 200 ? value.trim() : undefined;
}

/**
 * Validates ffprobe's `-show_format -show_streams` JSON: the first real video stream (with a
 * size and a frame rate), a positive duration, and the audio and subtitle streams in file order.
 */
export function parseProbe(json: unknown): SourceProbe {
  const root = record(json);
  const streams = root?.streams;
  if (!root || !Array.isArray(streams)) throw new SourceError('not a media file (ffprobe found no streams)');
  const counters = { video: 0, audio: 0, subtitle: 0 };
  let video: VideoTrack | undefined;
  const audio: AudioTrack[] = [];
  const subtitles: SubtitleTrack[] = [];
  let longestStream = 0;
  for (const raw of streams) {
    const stream = record(raw);
    if (!stream) continue;
    const type = stream.codec_type;
    if (type !== 'video' && type !== 'audio' && type !== 'subtitle') continue;
    const index = counters[type]++;
    longestStream = Math.max(longestStream, positiveNumber(stream.duration) ?? 0);
    if (type === 'video') {
      if (video || isCoverArt(stream)) continue;
      const width = positiveNumber(stream.width);
      const height = positiveNumber(stream.height);
      const frameRate = ratio(stream.avg_frame_rate) ?? ratio(stream.r_frame_rate);
      if (!width || !height || !Number.isInteger(width) || !Number.isInteger(height)) throw new SourceError('the video stream has no picture size');
      if (!frameRate || frameRate > 240) throw new SourceError('the video stream has no usable frame rate');
      const sampleAspect = ratio(stream.sample_aspect_ratio, ':') ?? 1;
      const start = Number(stream.start_time) - Number(record(root.format)?.start_time ?? 0);
      video = { index, width, height, frameRate, displayAspect: (width * sampleAspect) / height, startSeconds: Number.isFinite(start) && start > 0 ? start : 0 };
    } else if (type === 'audio') {
      audio.push({ index, language: tag(stream, 'language'), title: tag(stream, 'title'), channels: positiveNumber(stream.channels) ?? 2 });
    } else {
      const codec = typeof stream.codec_name === 'string' ? stream.codec_name : 'unknown';
      subtitles.push({ index, language: tag(stream, 'language'), title: tag(stream, 'title'), codec, isText: TEXT_SUBTITLE_CODECS.has(codec) });
    }
  }
  if (!video) throw new SourceError(audio.length > 0 ? 'no video stream (audio only)' : 'not a video (no video stream)');
  const durationSeconds = positiveNumber(record(root.format)?.duration) ?? longestStream;
  if (!(durationSeconds > 0)) throw new SourceError('zero duration');
  return { durationSeconds, video, audio, subtitles };
}

/** Runs ffprobe on a file and validates what it says. */
export function probeSource(path: string, ffprobe = process.env.FFPROBE ?? 'ffprobe'): Promise<SourceProbe> {
  return new Promise((resolve, reject) => {
    execFile(
      ffprobe,
      ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', '--', path],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(new Error(`could not run ${ffprobe} (install ffmpeg or set FFPROBE)`));
          return;
        }
        if (error) {
          const reason = stderr.trim().split('\n').pop()?.replace(/^.*?: /, '') ?? 'unreadable';
          reject(new SourceError(`not a media file ffmpeg can read (${reason.slice(0, 120)})`));
          return;
        }
        let json: unknown;
        try {
          json = JSON.parse(stdout);
        } catch {
          reject(new SourceError('ffprobe gave no readable description of the file'));
          return;
        }
        try {
          resolve(parseProbe(json));
        } catch (parseError) {
          reject(parseError as Error);
        }
      },
    );
  });
}
