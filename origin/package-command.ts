import { resolve } from 'node:path';
import { OptionError, parseCommandOptions } from '../infra/runtime/command-options.js';
import { importHlsDirectory, packageSource, type PackagedManifest, type PackageProgress, type SubtitleFile } from './asset-packager.js';
import { HlsDirectoryError } from './hls-directory.js';
import { PACKAGE_LADDER } from './renditions.js';
import { SourceError } from './source-probe.js';

const OPTIONS = {
  input: { kind: 'string', description: 'the video to package (or give it first, before the options)' },
  id: { kind: 'string', description: 'asset id: the catalog path /vod/<id>/master.m3u8', required: true },
  content: { kind: 'string', description: 'catalog directory (the origin\'s --content)', default: './content' },
  title: { kind: 'string', description: 'title shown in the player\'s picker (default: the id)' },
  hls: { kind: 'string', description: 'import this existing HLS directory (master.m3u8 and what it names) instead of encoding' },
  format: { kind: 'string', description: 'segment format', choices: ['ts', 'fmp4'], default: 'ts' },
  'segment-seconds': { kind: 'integer', description: 'segment length in seconds', default: 4, min: 1, max: 30 },
  rendition: { kind: 'string', description: 'ladder rung to make when the source allows it (default: all)', multiple: true, choices: PACKAGE_LADDER.map((r) => r.name) },
  subtitles: { kind: 'string', description: 'a WebVTT file as a subtitle track, as LANG=FILE (e.g. fr=film.fr.vtt) or FILE', multiple: true },
  preset: { kind: 'string', description: 'x264 preset (speed against size)', default: 'veryfast', choices: ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow'] },
  replace: { kind: 'boolean', description: 'replace an existing asset of the same id' },
} as const;

const USAGE = 'streamedge package <input> --id <asset> [options]   |   streamedge package --hls <dir> --id <asset>';

/** `fr=subs.vtt` → language fr; a plain path has no language. */
export function parseSubtitleOption(value: string): SubtitleFile {
  const match = /^([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)=(.+)$/.exec(value);
  return match ? { language: match[1]!, path: resolve(match[2]!) } : { language: undefined, path: resolve(value) };
}

const clock = (seconds: number): string => `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;

/** A bar with ETA that redraws in place on a terminal; elsewhere one plain line per 10 %. */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr, now: () => number = Date.now): (progress: PackageProgress) => void {
  const started = now();
  let lastTenth = -1;
  return ({ fraction, stage }) => {
    const percent = Math.floor(fraction * 100);
    const elapsed = (now() - started) / 1000;
    const eta = fraction > 0.03 && fraction < 1 ? ` ETA ${clock((elapsed / fraction) * (1 - fraction))}` : '';
    if (stream.isTTY) {
      const width = 30;
      const filled = Math.round(fraction * width);
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(percent).padStart(3)}% ${stage}${eta}\x1b[K`);
      if (stage === 'done') stream.write('\n');
      return;
    }
    const tenth = Math.floor(percent / 10);
    if (tenth === lastTenth && stage !== 'done') return;
    lastTenth = tenth;
    stream.write(`package: ${percent}% ${stage} (${clock(elapsed)} elapsed${eta})\n`);
  };
}

function describe(manifest: PackagedManifest, seconds: number): string {
  const ladder = manifest.variants.map((v) => `${v.name} ${Math.round(v.averageBandwidth / 1000)} kb/s`).join('; ');
  const tracks = [
    manifest.audio.length > 0 ? `audio: ${manifest.audio.map((a) => a.name).join(', ')}` : '',
    manifest.subtitles.length > 0 ? `subtitles: ${manifest.subtitles.map((s) => s.name).join(', ')}` : '',
  ].filter(Boolean);
  const what = manifest.source === 'hls-import' ? 'imported' : 'packaged';
  return `${what} /vod/${manifest.id}/master.m3u8 (${manifest.format}, ${manifest.durationSeconds.toFixed(1)} s${ladder ? `: ${ladder}` : ''}${tracks.length ? `; ${tracks.join('; ')}` : ''}) in ${seconds.toFixed(1)} s`;
}

export async function main(argv: readonly string[]): Promise<void> {
  // The input comes first (`streamedge package film.mkv --id film`), or as --input.
  const positional = argv[0] !== undefined && !argv[0].startsWith('-') ? argv[0] : undefined;
  const options = parseCommandOptions('package', `Package a video (or import an HLS directory) into the catalog.\n${USAGE}`, OPTIONS, positional ? argv.slice(1) : argv);
  const input = positional ?? options.input;
  if (options.hls !== undefined && input !== undefined) throw new OptionError('input', 'give either an input file or --hls, not both');
  if (options.hls === undefined && input === undefined) throw new OptionError('input', `missing (${USAGE})`);

  const controller = new AbortController();
  const interrupt = (): void => controller.abort(new Error('interrupted'));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const started = Date.now();
  const common = { contentDir: resolve(options.content), id: options.id, title: options.title, replace: options.replace, signal: controller.signal };
  try {
    const manifest =
      options.hls !== undefined
        ? await importHlsDirectory({ ...common, hlsDir: resolve(options.hls) })
        : await packageSource({
            ...common,
            input: resolve(input!),
            format: options.format as 'ts' | 'fmp4',
            segmentSeconds: options['segment-seconds'],
            renditions: options.rendition.length > 0 ? options.rendition : undefined,
            subtitles: options.subtitles.map(parseSubtitleOption),
            preset: options.preset,
            onProgress: progressPrinter(),
          });
    console.log(describe(manifest, (Date.now() - started) / 1000));
  } catch (error) {
    if (controller.signal.aborted) {
      console.error('\nstreamedge package: interrupted; nothing was added to the catalog');
      process.exit(130);
    }
    if (error instanceof SourceError) throw new OptionError(options.hls === undefined ? 'input' : '--hls', error.message);
    if (error instanceof HlsDirectoryError) throw new OptionError('--hls', error.message);
    throw error;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}
