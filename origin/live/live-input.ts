// What `streamedge live` encodes, checked before any ffmpeg runs: a video file (looped for ever)
// or a generated lavfi source (`lavfi:<filter graph>`). Anything unusable is a LiveInputError whose
// message names the problem in one line; the command turns it into exit code 2.
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { probeSource, SourceError, type SourceProbe } from '../source-probe.js';

export const LAVFI_PREFIX = 'lavfi:';
/** Channel ids are one plain path segment, like asset ids. */
export const CHANNEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export type LiveInput =
  | { readonly kind: 'file'; readonly path: string; readonly probe: SourceProbe }
  | { readonly kind: 'lavfi'; readonly graph: string };

export class LiveInputError extends Error {
  override readonly name = 'LiveInputError';
}

export function checkChannelId(id: string): void {
  if (!CHANNEL_ID.test(id)) throw new LiveInputError(`bad --id "${id.slice(0, 80)}": use 1-64 letters, digits, ".", "-" or "_", starting with a letter or digit`);
}

/** ffprobe's verdict on a lavfi graph: it must build and give a video stream. */
function probeLavfi(graph: string, ffprobe: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      ffprobe,
      ['-v', 'error', '-f', 'lavfi', '-i', graph, '-show_entries', 'stream=codec_type', '-of', 'json'],
      { timeout: 10_000, maxBuffer: 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(new Error(`could not run ${ffprobe} (install ffmpeg or set FFPROBE)`));
          return;
        }
        if (error) {
          const reason = stderr.trim().split('\n').filter(Boolean).slice(0, 2).map((line) => line.replace(/^\[[^\]]*\] /, '')).join('; ');
          reject(new LiveInputError(`bad lavfi source "${graph.slice(0, 80)}": ${reason.slice(0, 200) || 'ffmpeg refused it'}`));
          return;
        }
        const streams = (JSON.parse(stdout) as { streams?: { codec_type?: string }[] }).streams ?? [];
        if (!streams.some((stream) => stream.codec_type === 'video')) reject(new LiveInputError(`lavfi source "${graph.slice(0, 80)}" makes no video`));
        else resolvePromise();
      },
    );
  });
}

export async function resolveLiveInput(raw: string, ffprobe = process.env.FFPROBE ?? 'ffprobe'): Promise<LiveInput> {
  if (raw.startsWith(LAVFI_PREFIX)) {
    const graph = raw.slice(LAVFI_PREFIX.length).trim();
    if (graph === '') throw new LiveInputError('empty lavfi source: give a filter graph, e.g. lavfi:testsrc2=size=1280x720:rate=30');
    await probeLavfi(graph, ffprobe);
    return { kind: 'lavfi', graph };
  }
  const path = resolve(raw);
  const stats = await stat(path).catch(() => undefined);
  if (!stats) throw new LiveInputError(`${raw}: no such file (for a generated source use lavfi:<filter graph>)`);
  if (!stats.isFile()) throw new LiveInputError(`${raw}: not a file`);
  try {
    return { kind: 'file', path, probe: await probeSource(path, ffprobe) };
  } catch (error) {
    if (error instanceof SourceError) throw new LiveInputError(`${raw}: ${error.message}`);
    throw error;
  }
}
