import { copyFile, link, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface SyntheticCatalogOptions {
  /** A real catalog (e.g. the shared test catalog) whose `vod/<sourceAsset>` supplies the bytes. */
  readonly sourceDir: string;
  readonly sourceAsset: string;
  readonly dir: string;
  readonly assetCount: number;
  /** Segments listed per rendition playlist; the source's segments are reused cyclically. */
  readonly segmentsPerRendition: number;
}

export interface SyntheticAsset {
  readonly id: string;
  /** Per rendition: segment paths and their sizes in bytes. */
  readonly segments: ReadonlyMap<string, readonly { readonly path: string; readonly bytes: number }[]>;
}

/** Hard links cost no disk; a different filesystem falls back to copies. */
async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await copyFile(from, to);
  }
}

interface SourceRendition {
  readonly name: string;
  readonly header: string[];
  readonly segments: readonly { readonly extinf: string; readonly file: string; readonly bytes: number }[];
  readonly init: string | undefined;
}

async function readSourceRendition(dir: string, name: string): Promise<SourceRendition> {
  const lines = (await readFile(join(dir, name, 'index.m3u8'), 'utf8')).split('\n');
  const header = lines.filter((line) => line.startsWith('#EXT') && !line.startsWith('#EXTINF') && line !== '#EXT-X-ENDLIST');
  const segments: { extinf: string; file: string; bytes: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('#EXTINF')) continue;
    const file = lines[i + 1]!.trim();
    segments.push({ extinf: lines[i]!, file, bytes: (await stat(join(dir, name, file))).size });
  }
  if (segments.length === 0) throw new Error(`${dir}/${name}/index.m3u8 lists no segments`);
  const init = /URI="([^"]+)"/.exec(header.find((line) => line.startsWith('#EXT-X-MAP')) ?? '')?.[1];
  return { name, header: header.filter((line) => !line.startsWith('#EXT-X-MEDIA-SEQUENCE')), segments, init };
}

/**
 * Builds a catalog of many VOD assets cheaply: each asset is the source asset's real HLS bytes
 * under its own paths (hard links), with rendition playlists listing `segmentsPerRendition`
 * segments so assets have realistic ~1 KB playlists and many distinct segment objects.
 */
export async function buildSyntheticCatalog(options: SyntheticCatalogOptions): Promise<SyntheticAsset[]> {
  if (!Number.isInteger(options.assetCount) || options.assetCount < 1) throw new TypeError('buildSyntheticCatalog: assetCount must be ≥ 1');
  if (!Number.isInteger(options.segmentsPerRendition) || options.segmentsPerRendition < 1) {
    throw new TypeError('buildSyntheticCatalog: segmentsPerRendition must be ≥ 1');
  }
  const source = join(options.sourceDir, 'vod', options.sourceAsset);
  const renditionNames = (await readdir(source, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  const renditions = await Promise.all(renditionNames.map((name) => readSourceRendition(source, name)));
  const manifest = JSON.parse(await readFile(join(source, 'asset.json'), 'utf8')) as Record<string, unknown>;
  await rm(options.dir, { recursive: true, force: true });

  const assets: SyntheticAsset[] = [];
  for (let index = 1; index <= options.assetCount; index++) {
    const id = `bench-${String(index).padStart(4, '0')}`;
    const assetDir = join(options.dir, 'vod', id);
    const segments = new Map<string, { path: string; bytes: number }[]>();
    for (const rendition of renditions) {
      const renditionDir = join(assetDir, rendition.name);
      await mkdir(renditionDir, { recursive: true });
      if (rendition.init) await linkOrCopy(join(source, rendition.name, rendition.init), join(renditionDir, rendition.init));
      const lines = [...rendition.header, '#EXT-X-MEDIA-SEQUENCE:0'];
      const list: { path: string; bytes: number }[] = [];
      for (let n = 0; n < options.segmentsPerRendition; n++) {
        const from = rendition.segments[n % rendition.segments.length]!;
        const file = `seg-${String(n).padStart(5, '0')}${from.file.slice(from.file.lastIndexOf('.'))}`;
        await linkOrCopy(join(source, rendition.name, from.file), join(renditionDir, file));
        lines.push(from.extinf, file);
        list.push({ path: `/vod/${id}/${rendition.name}/${file}`, bytes: from.bytes });
      }
      await writeFile(join(renditionDir, 'index.m3u8'), `${[...lines, '#EXT-X-ENDLIST'].join('\n')}\n`);
      segments.set(rendition.name, list);
    }
    await linkOrCopy(join(source, 'master.m3u8'), join(assetDir, 'master.m3u8'));
    await writeFile(join(assetDir, 'asset.json'), `${JSON.stringify({ ...manifest, id, title: `Benchmark asset ${index}` }, null, 2)}\n`);
    assets.push({ id, segments });
  }
  return assets;
}
