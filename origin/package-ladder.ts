// The bitrate ladder for a packaged source: pure decisions from the probe, so they can be tested
// as a table without ffmpeg.
import type { VideoTrack } from './source-probe.js';
import { PACKAGE_LADDER, type Rendition } from './renditions.js';

export interface LadderRung {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly videoBitrate: number;
}

export interface LadderOptions {
  /** Rung names to keep (default: every rung of PACKAGE_LADDER the source allows). */
  readonly renditions?: readonly string[];
}

const even = (value: number): number => Math.max(2, 2 * Math.round(value / 2));

function rungAt(height: number, aspect: number, videoBitrate: number, name = `${height}p`): LadderRung {
  return { name, width: even(height * aspect), height, videoBitrate };
}

/**
 * The rungs no taller than the source, widths following the source's display aspect ratio (even,
 * as H.264 4:2:0 needs). A source shorter than the lowest rung gets one rung at its own size, its
 * bit rate scaled by area from the lowest rung. Never upscales.
 */
export function chooseLadder(video: VideoTrack, options: LadderOptions = {}): LadderRung[] {
  const wanted = options.renditions;
  for (const name of wanted ?? []) {
    if (!PACKAGE_LADDER.some((rung) => rung.name === name)) {
      throw new TypeError(`unknown rendition "${name}" (known: ${PACKAGE_LADDER.map((r) => r.name).join(', ')})`);
    }
  }
  const candidates: readonly Rendition[] = wanted ? PACKAGE_LADDER.filter((rung) => wanted.includes(rung.name)) : PACKAGE_LADDER;
  if (candidates.length === 0) throw new TypeError('no rendition chosen');
  const aspect = video.displayAspect;
  const fitting = candidates.filter((rung) => rung.height <= video.height);
  if (fitting.length > 0) return fitting.map((rung) => rungAt(rung.height, aspect, rung.videoBitrate, rung.name));
  const lowest = candidates[0]!;
  const height = even(Math.min(video.height, lowest.height));
  const scaled = Math.round((lowest.videoBitrate * (height * height * aspect)) / (lowest.width * lowest.height) / 1000) * 1000;
  return [rungAt(height, aspect, Math.max(100_000, scaled))];
}
