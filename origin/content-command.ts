import { resolve } from 'node:path';
import { parseCommandOptions } from '../infra/runtime/command-options.js';
import { generateCatalog, type GenerationProgress } from './catalog-generator.js';
import { DEMO_ASSETS, RENDITIONS, SEGMENT_SECONDS } from './renditions.js';

const OPTIONS = {
  content: { kind: 'string', description: 'directory to write the catalog into', default: './content' },
  duration: { kind: 'integer', description: 'seconds of video per asset', default: 60, min: SEGMENT_SECONDS, max: 3600 },
  rendition: {
    kind: 'string',
    description: 'rendition to make',
    multiple: true,
    choices: RENDITIONS.map((r) => r.name),
    default: RENDITIONS.map((r) => r.name),
  },
  asset: { kind: 'string', description: 'asset to make', multiple: true, choices: DEMO_ASSETS.map((a) => a.id), default: DEMO_ASSETS.map((a) => a.id) },
} as const;

/** A live-updating line on a terminal; in logs (CI), one line per quarter of each rendition. */
function progressPrinter(): (progress: GenerationProgress) => void {
  const interactive = process.stderr.isTTY;
  let lastQuarter = -1;
  return (progress) => {
    const label = `${progress.asset} ${progress.rendition}`.padEnd(16);
    const overall = `${Math.round(progress.overall * 100)}%`.padStart(4);
    if (progress.state === 'encoding') {
      const percent = Math.round(progress.fraction * 100);
      if (interactive) process.stderr.write(`\r[${overall}] ${label} encoding ${percent}%   `);
      else if (Math.floor(percent / 25) !== lastQuarter && percent < 100) {
        lastQuarter = Math.floor(percent / 25);
        process.stderr.write(`[${overall}] ${label} encoding ${percent}%\n`);
      }
      return;
    }
    lastQuarter = -1;
    const line = `[${overall}] ${label} ${progress.state === 'skipped' ? 'already done' : 'done'}`;
    process.stderr.write(interactive ? `\r${line}          \n` : `${line}\n`);
  };
}

export async function main(argv: readonly string[]): Promise<void> {
  const options = parseCommandOptions(
    'content',
    'Generate the demo HLS catalog (real H.264/AAC via ffmpeg). Finished work is kept and skipped on the next run.',
    OPTIONS,
    argv,
  );
  const dir = resolve(options.content);
  const started = Date.now();
  const summary = await generateCatalog({
    dir,
    durationSeconds: options.duration,
    renditions: options.rendition,
    assets: options.asset,
    onProgress: progressPrinter(),
  });
  for (const asset of summary.assets) {
    const ladder = asset.variants.map((v) => `${v.name} ${Math.round(v.averageBandwidth / 1000)} kb/s ${v.codecs}`).join('; ');
    console.log(`${asset.skipped ? 'kept' : 'made'} /vod/${asset.id}/master.m3u8 (${asset.durationSeconds} s): ${ladder}`);
  }
  console.log(`catalog ready in ${dir} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
