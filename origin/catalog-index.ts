import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ASSET_MARKER, type AssetManifest } from './catalog-generator.js';
import { LIVE_CHANNELS } from './renditions.js';

export interface CatalogEntry {
  readonly id: string;
  readonly title: string;
  readonly kind: 'vod' | 'live';
  readonly format: 'ts' | 'fmp4';
  readonly path: string;
}

export interface CatalogIndex {
  readonly assets: readonly CatalogEntry[];
  /** Newest asset marker: the catalog's Last-Modified. */
  readonly updatedAt: Date;
}

/** Lists the finished assets (those with a marker) and the live channels whose source exists. */
export async function readCatalogIndex(contentDir: string): Promise<CatalogIndex> {
  const names = await readdir(join(contentDir, 'vod')).catch(() => [] as string[]);
  const manifests: AssetManifest[] = [];
  let updatedAt = 0;
  for (const name of names.sort()) {
    const marker = join(contentDir, 'vod', name, ASSET_MARKER);
    try {
      const [text, stats] = await Promise.all([readFile(marker, 'utf8'), stat(marker)]);
      manifests.push(JSON.parse(text) as AssetManifest);
      updatedAt = Math.max(updatedAt, stats.mtimeMs);
    } catch {
      // not a finished asset (or not an asset at all): not listed
    }
  }
  const assets: CatalogEntry[] = manifests.map((m) => ({ id: m.id, title: m.title, kind: 'vod', format: m.format, path: `/vod/${m.id}/master.m3u8` }));
  for (const channel of LIVE_CHANNELS) {
    const source = manifests.find((m) => m.id === channel.source);
    if (source) assets.push({ id: channel.id, title: channel.title, kind: 'live', format: source.format, path: `/live/${channel.id}/master.m3u8` });
  }
  return { assets, updatedAt: new Date(updatedAt) };
}
