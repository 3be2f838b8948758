import type { AssetPlacements } from './asset-placements.js';
import { selectCandidates } from './candidate-selection.js';
import type { EdgeNode } from '../discovery/edge-node.js';
import { createSnapshot, type EdgeSnapshot } from '../discovery/edge-snapshot.js';
import type { IpPrefix } from '../../infra/net/ip-prefix-table.js';
import type { LocationTable, Place } from '../location/location-table.js';
import type { PassiveHealth } from '../health/passive-health.js';
import { demotedLast, isDemoted, type Session, type SessionTracker } from './session-tracker.js';
import { locateViewer, regionHints, type ViewerLocation, type ViewerRequest } from '../location/viewer-location.js';

/** Everything the fronts need to know about where one request should go. */
export interface Route {
  readonly viewer: ViewerLocation;
  readonly assetKey: string;
  readonly sessionKey: string;
  /** Best first, then fallbacks; only edges in the snapshot and not ejected. */
  readonly candidates: readonly EdgeNode[];
  readonly session: Session | undefined;
}

/** A snapshot with what is derived from it: region coordinates as the mean of their edges' positions. */
interface SelectorView {
  readonly snapshot: EdgeSnapshot;
  readonly regionPlaces: ReadonlyMap<string, Place>;
}

function buildView(snapshot: EdgeSnapshot): SelectorView {
  const regionPlaces = new Map<string, Place>();
  const byRegion = new Map<string, EdgeNode[]>();
  for (const edge of snapshot.edges) byRegion.set(edge.region, [...(byRegion.get(edge.region) ?? []), edge]);
  for (const [region, edges] of byRegion) {
    regionPlaces.set(region, {
      region,
      lat: edges.reduce((sum, edge) => sum + edge.lat, 0) / edges.length,
      lon: edges.reduce((sum, edge) => sum + edge.lon, 0) / edges.length,
    });
  }
  return Object.freeze({ snapshot, regionPlaces });
}

export interface EdgeRouterOptions {
  readonly locations: LocationTable;
  readonly trustedProxies: readonly IpPrefix[];
  readonly hintsEnabled: boolean;
  readonly balanceFactor: number;
  readonly health: PassiveHealth;
  readonly sessions: SessionTracker;
  readonly placements: AssetPlacements;
  readonly onSelected?: (edge: EdgeNode) => void;
}

export interface EdgeRouter {
  readonly snapshot: EdgeSnapshot;
  /** Swaps in a new snapshot whole: a request sees either the old edge set or the new one. */
  setSnapshot(snapshot: EdgeSnapshot): void;
  /** Locates the viewer and orders the candidates; throws ViewerInputError on bad viewer input. */
  route(req: ViewerRequest, assetKey: string, sessionKey?: string): Route;
  /** Where the viewer of `req` is; throws ViewerInputError on bad viewer input. */
  locate(req: ViewerRequest): ViewerLocation;
  /** route() for a viewer located already. */
  routeLocated(viewer: ViewerLocation, assetKey: string, sessionKey?: string): Route;
  /** Records which edge the viewer was actually sent to (after any retries). */
  commit(route: Route, edge: EdgeNode): Session;
}

export function createEdgeRouter(options: EdgeRouterOptions): EdgeRouter {
  if (!(options.balanceFactor >= 1)) throw new TypeError(`balanceFactor must be ≥ 1, got ${options.balanceFactor}`);
  let view = buildView(createSnapshot([], 'static'));
  const locate = (req: ViewerRequest): ViewerLocation => {
    const current = view;
    return locateViewer(
      {
        peer: req.socket.remoteAddress,
        forwardedFor: req.headers['x-forwarded-for'],
        hintQuery: regionHints(req.url ?? '/'),
        hintHeader: req.headers['x-streamedge-region'],
      },
      {
        table: options.locations,
        trustedProxies: options.trustedProxies,
        hintsEnabled: options.hintsEnabled,
        regionFallback: (region) => current.regionPlaces.get(region),
      },
    );
  };
  const routeLocated = (viewer: ViewerLocation, assetKey: string, sessionKey?: string): Route => {
    const current = view;
    const key = sessionKey ?? `${viewer.clientIp} ${assetKey}`;
    const session = options.sessions.get(key);
    const available = current.snapshot.edges.filter((edge) => options.health.isAvailable(edge.id));
    const now = Date.now();
    // A viewer stays put only on an edge it has not reported failing or slow.
    const stay = session && !isDemoted(session, session.edgeId, now) ? session.edgeId : undefined;
    const ordered = selectCandidates({
      edges: available,
      viewer: viewer.place,
      assetKey,
      loads: options.sessions.loads(),
      balanceFactor: options.balanceFactor,
      placement: { current: stay, holders: options.placements.holders(assetKey) },
    });
    return { viewer, assetKey, sessionKey: key, candidates: demotedLast(ordered, session, now), session };
  };
  return {
    get snapshot() {
      return view.snapshot;
    },
    setSnapshot(snapshot) {
      view = buildView(snapshot);
      options.health.setSnapshot(snapshot);
    },
    route: (req, assetKey, sessionKey) => routeLocated(locate(req), assetKey, sessionKey),
    locate,
    routeLocated,
    commit(route, edge) {
      options.onSelected?.(edge);
      options.placements.record(route.assetKey, edge.id);
      return options.sessions.assign(route.sessionKey, route.assetKey, edge.id);
    },
  };
}
