import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { withDirectoryLock } from './directory-lock.js';
import { encodeRenditionArgs, packageHlsArgs } from './ffmpeg-recipes.js';
import { runFfmpeg, supportsDrawtext } from './ffmpeg-runner.js';
import { avcCodecFromInitSegment, avcCodecFromTransportStream } from './h264-codec-string.js';
import { renderMasterPlaylist, type VariantStream } from './master-playlist.js';
import { parseMediaPlaylist, type MediaPlaylist } from './media-playlist.js';
import {
  DEMO_ASSETS,
  FRAME_RATE,
  RENDITIONS,
  SEGMENT_SECONDS,
  findRendition,
  type AssetSpec,
  type Rendition,
} from './renditions.js';

/** Bump when the layout or encoding changes, so old content is regenerated rather than reused. */
export const GENERATOR_VERSION = 1;

/** Written last into a finished asset; its presence (with a matching fingerprint) means "done". */
export const ASSET_MARKER = 'asset.json';
export const AAC_LC = 'mp4a.40.2';

export interface AssetManifest {
  readonly id: string;
  readonly title: string;
  readonly format: AssetSpec['format'];
  readonly durationSeconds: number;
  readonly fingerprint: string;
  readonly generatorVersion: number;
  readonly variants: readonly (VariantStream & { readonly name: string })[];
}

export interface GenerationProgress {
  readonly asset: string;
  readonly rendition: string;
  /** This rendition's fraction done, 0..1. */
  readonly fraction: number;
  /** The whole run's fraction done, 0..1. */
  readonly overall: number;
  readonly state: 'encoding' | 'done' | 'skipped';
}

export interface GenerateCatalogOptions {
  readonly dir: string;
  readonly durationSeconds?: number;
  /** Rendition names (default: 240p, 480p, 720p). */
  readonly renditions?: readonly string[];
  /** Asset ids (default: demo-ts, demo-fmp4). */
  readonly assets?: readonly string[];
  readonly onProgress?: (progress: GenerationProgress) => void;
}

export interface CatalogSummary {
  readonly dir: string;
  readonly assets: readonly (AssetManifest & { readonly skipped: boolean })[];
}

function fingerprintOf(asset: AssetSpec, durationSeconds: number, renditions: readonly Rendition[]): string {
  const inputs = { GENERATOR_VERSION, format: asset.format, durationSeconds, FRAME_RATE, SEGMENT_SECONDS, renditions };
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16);
}

async function readManifest(assetDir: string): Promise<AssetManifest | undefined> {
  try {
    return JSON.parse(await readFile(join(assetDir, ASSET_MARKER), 'utf8')) as AssetManifest;
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Peak and average bit rate of a finished media playlist, from the real sizes of its segments. A
 * stub of a last segment (under half the longest) is left out of the peak: a keyframe in a few
 * milliseconds would claim a bit rate no viewer ever needs.
 */
export async function measureBitRates(renditionDir: string, playlist: MediaPlaylist): Promise<{ peak: number; average: number }> {
  const longestMs = Math.max(...playlist.segments.map((segment) => segment.durationMs));
  let peak = 0;
  let totalBits = 0;
  let totalMs = 0;
  for (const segment of playlist.segments) {
    const bits = (await stat(join(renditionDir, segment.uri))).size * 8;
    if (segment.durationMs * 2 >= longestMs) peak = Math.max(peak, bits / (segment.durationMs / 1000));
    totalBits += bits;
    totalMs += segment.durationMs;
  }
  return { peak: Math.ceil(peak), average: Math.ceil(totalBits / (totalMs / 1000)) };
}

/** Measures a finished rendition: peak and average bit rate from real segment sizes, codecs from the bitstream. */
async function describeVariant(asset: AssetSpec, rendition: Rendition, renditionDir: string): Promise<VariantStream & { name: string }> {
  const playlist = parseMediaPlaylist(await readFile(join(renditionDir, 'index.m3u8'), 'utf8'));
  const { peak, average } = await measureBitRates(renditionDir, playlist);
  const video =
    asset.format === 'fmp4'
      ? avcCodecFromInitSegment(await readFile(join(renditionDir, playlist.mapUri ?? 'init.mp4')))
      : avcCodecFromTransportStream(await readFile(join(renditionDir, playlist.segments[0]!.uri)));
  return {
    name: rendition.name,
    uri: `${rendition.name}/index.m3u8`,
    bandwidth: peak,
    averageBandwidth: average,
    width: rendition.width,
    height: rendition.height,
    frameRate: FRAME_RATE,
    codecs: `${video},${AAC_LC}`,
  };
}

function validate(options: GenerateCatalogOptions): { durationSeconds: number; renditions: Rendition[]; assets: AssetSpec[] } {
  if (typeof options.dir !== 'string' || options.dir === '') throw new TypeError('generateCatalog: dir must be a non-empty path');
  const durationSeconds = options.durationSeconds ?? 60;
  if (!Number.isFinite(durationSeconds) || durationSeconds < SEGMENT_SECONDS || durationSeconds > 3600) {
    throw new TypeError(`generateCatalog: durationSeconds must be ${SEGMENT_SECONDS}..3600, got ${durationSeconds}`);
  }
  const renditions = (options.renditions ?? RENDITIONS.map((r) => r.name)).map(findRendition);
  if (renditions.length === 0) throw new TypeError('generateCatalog: renditions must not be empty');
  const assets = (options.assets ?? DEMO_ASSETS.map((a) => a.id)).map((id) => {
    const asset = DEMO_ASSETS.find((candidate) => candidate.id === id);
    if (!asset) throw new TypeError(`generateCatalog: unknown asset "${id}" (known: ${DEMO_ASSETS.map((a) => a.id).join(', ')})`);
    return asset;
  });
  if (assets.length === 0) throw new TypeError('generateCatalog: assets must not be empty');
  return { durationSeconds, renditions, assets };
}

type RenditionReport = (rendition: string, state: GenerationProgress['state'], fraction: number) => void;

/** Encodes a rendition once per catalog run; both packagings (TS and fMP4) reuse it. */
async function encodedRendition(dir: string, rendition: Rendition, durationSeconds: number, onProgress: (fraction: number) => void): Promise<string> {
  const fingerprint = createHash('sha256').update(JSON.stringify({ GENERATOR_VERSION, durationSeconds, FRAME_RATE, SEGMENT_SECONDS, rendition })).digest('hex').slice(0, 16);
  const encoded = join(dir, '.build', 'encoded', `${rendition.name}-${fingerprint}.mp4`);
  if (await exists(encoded)) return encoded;
  await mkdir(dirname(encoded), { recursive: true });
  const partial = `${encoded}.partial.mp4`;
  const drawtext = await supportsDrawtext();
  await runFfmpeg({ cwd: dirname(encoded), args: encodeRenditionArgs(rendition, durationSeconds, drawtext, partial), durationSeconds, onProgress });
  await rename(partial, encoded);
  return encoded;
}

async function buildAsset(
  asset: AssetSpec,
  fingerprint: string,
  dir: string,
  durationSeconds: number,
  renditions: readonly Rendition[],
  report: RenditionReport,
): Promise<AssetManifest> {
  const finalDir = join(dir, 'vod', asset.id);
  const buildDir = join(dir, '.build', `${asset.id}-${fingerprint}`);
  await mkdir(buildDir, { recursive: true });
  const variants: AssetManifest['variants'][number][] = [];
  for (const rendition of renditions) {
    const renditionDir = join(buildDir, rendition.name);
    if (await exists(renditionDir)) {
      report(rendition.name, 'skipped', 1);
    } else {
      const encoded = await encodedRendition(dir, rendition, durationSeconds, (fraction) => report(rendition.name, 'encoding', fraction * 0.95));
      const partialDir = `${renditionDir}.partial`;
      await rm(partialDir, { recursive: true, force: true });
      await mkdir(partialDir);
      await runFfmpeg({ cwd: partialDir, args: packageHlsArgs(encoded, asset.format) });
      await rename(partialDir, renditionDir);
      report(rendition.name, 'done', 1);
    }
    variants.push(await describeVariant(asset, rendition, renditionDir));
  }

  const manifest: AssetManifest = {
    id: asset.id,
    title: asset.title,
    format: asset.format,
    durationSeconds,
    fingerprint,
    generatorVersion: GENERATOR_VERSION,
    variants,
  };
  await writeFile(join(buildDir, 'master.m3u8'), renderMasterPlaylist(variants));
  await writeFile(join(buildDir, ASSET_MARKER), `${JSON.stringify(manifest, null, 2)}\n`);
  // Swap whole directories: a rename cannot replace a non-empty directory, so move the old one aside first.
  if (await exists(finalDir)) {
    const retired = join(dir, '.build', `${asset.id}-retired-${process.pid}-${Date.now()}`);
    await rename(finalDir, retired);
    await rename(buildDir, finalDir);
    await rm(retired, { recursive: true, force: true });
  } else {
    await rename(buildDir, finalDir);
  }
  return manifest;
}

/**
 * Makes (or completes) a real multi-bitrate HLS catalog under `dir/vod/<asset>/`. Each rendition is
 * encoded once and packaged per asset (TS or fMP4) into a temporary directory renamed when ffmpeg
 * succeeds; the asset is assembled in a build directory, its marker written last, and the whole
 * directory renamed into place, so a reader never sees half an asset and an interrupted run resumes
 * from the last finished step. Processes generating into one directory take turns (a lock directory).
 */
export async function generateCatalog(options: GenerateCatalogOptions): Promise<CatalogSummary> {
  const { durationSeconds, renditions, assets } = validate(options);
  const report = options.onProgress ?? (() => {});
  const totalSteps = assets.length * renditions.length;
  let stepsDone = 0;
  const results: (AssetManifest & { skipped: boolean })[] = [];
  await mkdir(join(options.dir, 'vod'), { recursive: true });

  const pending: { asset: AssetSpec; fingerprint: string; finalDir: string }[] = [];
  const skip = (asset: AssetSpec, manifest: AssetManifest): void => {
    for (const rendition of renditions) {
      stepsDone++;
      report({ asset: asset.id, rendition: rendition.name, fraction: 1, overall: stepsDone / totalSteps, state: 'skipped' });
    }
    results.push({ ...manifest, skipped: true });
  };
  for (const asset of assets) {
    const fingerprint = fingerprintOf(asset, durationSeconds, renditions);
    const finalDir = join(options.dir, 'vod', asset.id);
    const existing = await readManifest(finalDir);
    if (existing?.fingerprint === fingerprint) skip(asset, existing);
    else pending.push({ asset, fingerprint, finalDir });
  }
  if (pending.length > 0) {
    await withDirectoryLock(join(options.dir, '.build', 'lock'), async () => {
      for (const { asset, fingerprint, finalDir } of pending) {
        const finished = await readManifest(finalDir); // another process may have made it meanwhile
        if (finished?.fingerprint === fingerprint) {
          skip(asset, finished);
          continue;
        }
        const manifest = await buildAsset(asset, fingerprint, options.dir, durationSeconds, renditions, (rendition, state, fraction) => {
          if (state !== 'encoding') stepsDone++;
          report({ asset: asset.id, rendition, fraction, overall: state === 'encoding' ? (stepsDone + fraction) / totalSteps : stepsDone / totalSteps, state });
        });
        results.push({ ...manifest, skipped: false });
      }
      // Every requested asset is packaged: the intermediate encodes are no longer needed.
      await rm(join(options.dir, '.build', 'encoded'), { recursive: true, force: true });
    });
  }
  // Only succeeds when empty, so it never removes another run's work in progress.
  await rmdir(join(options.dir, '.build')).catch(() => {});
  results.sort((x, y) => assets.findIndex((a) => a.id === x.id) - assets.findIndex((a) => a.id === y.id));
  return { dir: options.dir, assets: results };
}
