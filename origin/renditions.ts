/** One rung of the bitrate ladder. Every rendition shares the frame rate and segment duration so
 * segment boundaries line up across renditions and a player can switch at any boundary. */
export interface Rendition {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly videoBitrate: number;
  readonly audioBitrate: number;
  /** H.264 level ×10 (31 = 3.1): the smallest level whose frame-size and macroblock-rate limits fit. */
  readonly h264Level: number;
}

export const FRAME_RATE = 30;
export const SEGMENT_SECONDS = 2;
export const AUDIO_SAMPLE_RATE = 48_000;

export const RENDITIONS: readonly Rendition[] = [
  { name: '240p', width: 426, height: 240, videoBitrate: 400_000, audioBitrate: 96_000, h264Level: 21 },
  { name: '480p', width: 854, height: 480, videoBitrate: 1_000_000, audioBitrate: 128_000, h264Level: 31 },
  { name: '720p', width: 1280, height: 720, videoBitrate: 2_500_000, audioBitrate: 128_000, h264Level: 31 },
];

/** The ladder `streamedge package` chooses from (never above the source's height): the demo's rungs and 1080p. */
export const PACKAGE_LADDER: readonly Rendition[] = [
  ...RENDITIONS,
  { name: '1080p', width: 1920, height: 1080, videoBitrate: 5_000_000, audioBitrate: 128_000, h264Level: 40 },
];

export type SegmentFormat = 'ts' | 'fmp4';

export interface AssetSpec {
  readonly id: string;
  readonly title: string;
  readonly format: SegmentFormat;
}

export const DEMO_ASSETS: readonly AssetSpec[] = [
  { id: 'demo-ts', title: 'Demo (MPEG-TS segments)', format: 'ts' },
  { id: 'demo-fmp4', title: 'Demo (fMP4 segments)', format: 'fmp4' },
];

/** The rungs `streamedge live` offers: the packager's ladder with a small 144p rung below it (tests, slow machines). */
export const LIVE_LADDER: readonly Rendition[] = [
  { name: '144p', width: 256, height: 144, videoBitrate: 200_000, audioBitrate: 64_000, h264Level: 12 },
  ...PACKAGE_LADDER,
];

export function findRendition(name: string): Rendition {
  const rendition = RENDITIONS.find((candidate) => candidate.name === name);
  if (!rendition) throw new TypeError(`unknown rendition "${name}" (known: ${RENDITIONS.map((r) => r.name).join(', ')})`);
  return rendition;
}
