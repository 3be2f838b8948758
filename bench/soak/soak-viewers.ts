// The soak's synthetic viewers (the drills' own, stack/drill/synthetic-viewer.ts): each plays one
// title in real time for the whole run, the titles taken in turn, and every other pair connects
// from the other region's addresses of the shipped location table, so every edge has viewers.
import { DEFAULT_VIEWER_BEHAVIOUR, startSyntheticViewer, type SyntheticViewer, type ViewerRequest } from '../../stack/drill/synthetic-viewer.js';

/** Source addresses the shipped location table (stack/locations.json) places in us-east and eu-west. */
const REGION_NETWORKS = [
  { region: 'us-east', prefix: '127.0.1.' },
  { region: 'eu-west', prefix: '127.0.2.' },
] as const;

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
  readonly onRequest: (request: ViewerRequest) => void;
}

export function startSoakViewers(options: SoakViewersOptions): SyntheticViewer[] {
  return Array.from({ length: options.count }, (_, index) => {
    const placement = viewerPlacement(index, options.media);
    return startSyntheticViewer({
      id: `soak-${index + 1} (${placement.media}, ${placement.region})`,
      masterUrl: `${options.balancerUrl}/${placement.media}/master.m3u8`,
      rendition: options.rendition,
      ...DEFAULT_VIEWER_BEHAVIOUR,
      localAddress: placement.localAddress,
      onRequest: options.onRequest,
    });
  });
}
