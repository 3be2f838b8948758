import { spawn } from 'node:child_process';

export interface FfmpegRunOptions {
  readonly args: readonly string[];
  readonly cwd: string;
  /** Length of the output in seconds, to turn ffmpeg's out_time into a fraction. */
  readonly durationSeconds?: number;
  readonly onProgress?: (fraction: number) => void;
  readonly ffmpeg?: string;
  /** Aborting stops ffmpeg (SIGTERM) and rejects with the signal's reason once it has exited. */
  readonly signal?: AbortSignal;
}

/** Runs ffmpeg with `-progress pipe:1`, reporting the fraction done; rejects with stderr's tail. */
export function runFfmpeg(options: FfmpegRunOptions): Promise<void> {
  const ffmpeg = options.ffmpeg ?? process.env.FFMPEG ?? 'ffmpeg';
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpeg, ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-progress', 'pipe:1', ...options.args], {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Settles only once ffmpeg has exited, so a caller cleaning up after an abort never races its writes.
    const abort = (): void => void child.kill('SIGTERM');
    options.signal?.addEventListener('abort', abort, { once: true });
    if (options.signal?.aborted) abort();
    let stderr = '';
    let pending = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      let newline: number;
      while ((newline = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        const match = /^out_time_us=(\d+)$/.exec(line);
        if (match && options.durationSeconds && options.onProgress) {
          options.onProgress(Math.min(1, Number(match[1]) / 1e6 / options.durationSeconds));
        }
      }
    });
    child.once('error', (error) => {
      options.signal?.removeEventListener('abort', abort);
      reject(new Error(`could not run ${ffmpeg}: ${error.message} (install ffmpeg or set FFMPEG)`));
    });
    child.once('exit', (code, signal) => {
      options.signal?.removeEventListener('abort', abort);
      if (options.signal?.aborted) reject(options.signal.reason as Error);
      else if (code === 0) resolve();
      else reject(new Error(`${ffmpeg} failed (${code ?? signal}):\n${stderr.trim()}`));
    });
  });
}

let drawtextSupport: Promise<boolean> | undefined;

/** drawtext needs libfreetype and a font; probe once so a minimal ffmpeg still makes content. */
export function supportsDrawtext(ffmpeg?: string): Promise<boolean> {
  drawtextSupport ??= runFfmpeg({
    ffmpeg,
    cwd: process.cwd(),
    args: ['-f', 'lavfi', '-i', 'testsrc2=size=64x64:rate=1:duration=1', '-vf', "drawtext=text='probe':fontsize=10", '-f', 'null', '-'],
  }).then(
    () => true,
    () => false,
  );
  return drawtextSupport;
}
