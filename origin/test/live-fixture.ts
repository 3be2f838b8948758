import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { avcCodecFromTransportStream } from '../h264-codec-string.js';
import { CHANNEL_MARKER, type ChannelManifest } from '../live/live-channel-layout.js';
import { openLiveRenditionWriter, writeFileAtomically, type LiveRenditionWriter } from '../live/live-rendition-writer.js';
import { renderMasterPlaylist } from '../master-playlist.js';
import { ensureTestCatalog, TEST_CATALOG_SECONDS } from './catalog-fixture.js';

export interface LiveFixture {
  readonly channelDir: string;
  readonly writers: ReadonlyMap<string, LiveRenditionWriter>;
  /** Publishes the next segment of every rendition, as the encoder does every segment duration. */
  advance(): Promise<void>;
}

/**
 * A small pre-encoded live channel for tests that need no running encoder: real MPEG-TS segments
 * of the test catalog's demo-ts, published through the encoder's own writer, so the layout and
 * playlists are exactly what `streamedge live` writes.
 */
export async function writeLiveFixture(
  contentDir: string,
  options: { readonly channel: string; readonly renditions?: readonly string[]; readonly segments?: number; readonly windowSize?: number; readonly clock?: () => number },
): Promise<LiveFixture> {
  const catalog = await ensureTestCatalog();
  const renditions = options.renditions ?? ['240p', '480p'];
  const channelDir = join(contentDir, 'live', options.channel);
  const staging = join(channelDir, '.encoder');
  await mkdir(staging, { recursive: true });
  const writers = new Map<string, LiveRenditionWriter>();
  for (const name of renditions) {
    await mkdir(join(channelDir, name), { recursive: true });
    writers.set(name, await openLiveRenditionWriter({ dir: join(channelDir, name), targetDuration: 2, windowSize: options.windowSize ?? 3, clock: options.clock }));
  }
  const sourceSegments = TEST_CATALOG_SECONDS / 2;
  let published = 0;
  const advance = async (): Promise<void> => {
    for (const [name, writer] of writers) {
      const file = join(staging, `${name}-${published}.ts`);
      await copyFile(join(catalog, 'vod', 'demo-ts', name, `seg-${String(published % sourceSegments).padStart(5, '0')}.ts`), file);
      await writer.publish(file, 2000);
    }
    published++;
  };
  for (let i = 0; i < (options.segments ?? 4); i++) await advance();
  const variants = await Promise.all(
    renditions.map(async (name, i) => ({
      uri: `${name}/index.m3u8`,
      bandwidth: 500_000 * (i + 1),
      averageBandwidth: 400_000 * (i + 1),
      width: 426 * (i + 1),
      height: 240 * (i + 1),
      frameRate: 30,
      codecs: `${avcCodecFromTransportStream(await readFile(join(catalog, 'vod', 'demo-ts', name, 'seg-00000.ts')))},mp4a.40.2`,
    })),
  );
  await writeFileAtomically(join(channelDir, 'master.m3u8'), renderMasterPlaylist(variants));
  const manifest: ChannelManifest = { id: options.channel, title: `Live ${options.channel}`, format: 'ts' };
  await writeFileAtomically(join(channelDir, CHANNEL_MARKER), JSON.stringify(manifest));
  return { channelDir, writers, advance };
}
