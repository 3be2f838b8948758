// The soak's synthetic viewers (the drills' own, stack/drill/synthetic-viewer.ts): each plays one
// title in real time for the whole run, the titles taken in turn, and every other pair connects
// from the other region's addresses of the shipped location table, so every edge has viewers.
import { DEFAULT_VIEWER_BEHAVIOUR, startSyntheticViewer, type SyntheticViewer, type ViewerRequest } from '../../stack/drill/synthetic-viewer.js';

/** Source addresses the shipped location table (stack/locations.json) places in us-east and eu-west. */
const REGION_NETWORKS = [
  { region: 'us-east', prefix: '127.0.1.' },
  { region: 'eu-west', prefix: '127.0.2.' },
] as const;
/** Regions the viewers come from, taken in turn. */
export const REGION_COUNT = REGION_NETWORKS.length;

export interface ViewerPlacement {
  readonly media: string;
  readonly region: string;
  readonly localAddress: string;
}

/** Viewer `index`'s title and address: titles alternate fastest, regions after each round of titles. */
export function viewerPlacement(index: number, media: readonly string[]): ViewerPlacement {
  if (media.length === 0) throw new RangeError('soak viewers: no media to watch');
  const network = REGION_NETWORKS[Math.floor(index / media.length) % REGION_NETWORKS.length]!;
  // An address of its own, as viewers on the Internet have.
  const host = 10 + index;
  if (host > 254) throw new RangeError(`soak viewers: viewer ${index + 1} needs more addresses than a /24 holds`);
  return { media: media[index % media.length]!, region: network.region, localAddress: `${network.prefix}${host}` };
}

export interface SoakViewersOptions {
  readonly balancerUrl: string;
  readonly count: number;
  readonly media: readonly string[];
  readonly rendition: string;
  /** The viewers arrive evenly over this long, the first at once: an audience does not send its first requests in the same millisecond. */
  readonly rampMs: number;
  readonly onRequest: (request: ViewerRequest) => void;
}

export interface SoakViewer {
  /** Stops the viewer, or keeps it from arriving when its time has not come. */
  stop(): Promise<void>;
}

/** When viewer `index` of `count` arrives, in milliseconds after the first. */
export function arrivalMs(index: number, count: number, rampMs: number): number {
  if (!(rampMs >= 0)) throw new RangeError(`soak viewers: the ramp must be 0 or more, got ${rampMs} ms`);
  return count > 1 ? Math.round((index * rampMs) / count) : 0;
}

export function startSoakViewers(options: SoakViewersOptions): SoakViewer[] {
  return Array.from({ length: options.count }, (_, index) => {
    const placement = viewerPlacement(index, options.media);
    let viewer: SyntheticViewer | undefined;
    const arrive = (): void => {
      viewer = startSyntheticViewer({
        id: `soak-${index + 1} (${placement.media}, ${placement.region})`,
        masterUrl: `${options.balancerUrl}/${placement.media}/master.m3u8`,
        rendition: options.rendition,
        ...DEFAULT_VIEWER_BEHAVIOUR,
        localAddress: placement.localAddress,
        onRequest: options.onRequest,
      });
    };
    const delayMs = arrivalMs(index, options.count, options.rampMs);
    const timer = delayMs === 0 ? undefined : setTimeout(arrive, delayMs);
    if (!timer) arrive();
    return {
      stop: async () => {
        clearTimeout(timer);
        await viewer?.stop();
      },
    };
  });
}
