import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ASSET_MARKER, type AssetManifest } from './catalog-generator.js';
import { CHANNEL_MARKER, type ChannelManifest } from './live/live-channel-layout.js';

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

/** Lists the finished assets (those with a marker) and the live channels an encoder has set up. */
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
  for (const name of (await readdir(join(contentDir, 'live')).catch(() => [] as string[])).sort()) {
    try {
      const channel = JSON.parse(await readFile(join(contentDir, 'live', name, CHANNEL_MARKER), 'utf8')) as ChannelManifest;
      if (channel.id === name) assets.push({ id: channel.id, title: channel.title, kind: 'live', format: channel.format, path: `/live/${channel.id}/master.m3u8` });
    } catch {
      // not a live channel
    }
  }
  return { assets, updatedAt: new Date(updatedAt) };
}
