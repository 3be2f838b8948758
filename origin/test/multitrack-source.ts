import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runFfmpeg } from '../ffmpeg-runner.js';

export interface MultitrackSource {
  /** A Matroska file: H.264 test pattern, two AAC tracks tagged eng and fra, no subtitles. */
  readonly video: string;
  /** A WebVTT file to pass with `--subtitles`. */
  readonly subtitles: string;
}

export const SUBTITLE_TEXT = 'Hello from streamedge';

/** A tiny two-language source made with ffmpeg (lavfi test pattern and two tones), a few seconds long. */
export async function makeMultitrackSource(dir: string, seconds: number, size = '320x180'): Promise<MultitrackSource> {
  await mkdir(dir, { recursive: true });
  const video = join(dir, 'two-languages.mkv');
  const subtitles = join(dir, 'subtitles.fr.vtt');
  await runFfmpeg({
    cwd: dir,
    args: [
      '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=25:duration=${seconds}`,
      '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
      '-f', 'lavfi', '-i', `sine=frequency=660:sample_rate=48000:duration=${seconds}`,
      '-map', '0:v', '-map', '1:a', '-map', '2:a',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k',
      '-metadata:s:a:0', 'language=eng', '-metadata:s:a:1', 'language=fra',
      '-y', video,
    ],
  });
  const cues = Array.from({ length: Math.ceil(seconds) }, (_, s) => `00:00:${String(s).padStart(2, '0')}.100 --> 00:00:${String(s).padStart(2, '0')}.900\n${SUBTITLE_TEXT} ${s}`);
  await writeFile(subtitles, `WEBVTT\n\n${cues.join('\n\n')}\n`);
  return { video, subtitles };
}
