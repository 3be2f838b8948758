// Where an edge's shields come from: a static `--shield` list, or Consul's passing instances of
// `streamedge-shield` — a service of its own, so the balancer, which watches `streamedge-edge`,
// never sends a viewer to one. The edge's own region's shields come first (rank 0); other regions'
// follow as a fallback, nearest region first. Within a rank the upstream client picks a shield per
// key by rendezvous hashing with bounded loads.
import { haversineKm } from '../../infra/geo/geo-distance.js';
import type { Logger } from '../../infra/runtime/logger.js';
import type { ServiceInstance } from '../../infra/consul/service-watch.js';
import type { ConsulConnection } from '../../infra/consul/consul-connection.js';
import { createRegistrationScreen } from '../../infra/consul/registration-screen.js';
import type { IpPrefix } from '../../infra/net/ip-prefix-table.js';
import { readOriginRegistration, registeredReplica, startConsulReplicaSource, type OriginSource } from './origin-source.js';
import type { UpstreamReplica } from './upstream-client.js';

export const SHIELD_SERVICE = 'streamedge-shield';
/** The viewer-facing edges' service (the balancer's list; a region's sibling edges come from it). */
export const EDGE_SERVICE = 'streamedge-edge';

/** Where this node stands: its region, and its place for ordering other regions. */
export interface NodePlace {
  readonly region: string;
  readonly lat: number;
  readonly lon: number;
}

function placeOf(instance: ServiceInstance): { lat: number; lon: number } | undefined {
  const lat = Number(instance.meta.lat);
  const lon = Number(instance.meta.lon);
  if (instance.meta.lat === undefined || instance.meta.lon === undefined || !Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) return undefined;
  return { lat, lon };
}

/**
 * Ranks shields for an edge at `place`: its region's 0, then each other region by the distance to
 * its nearest shield (1, 2, …); a shield without a usable place ranks after every placed region.
 */
export function rankShields(instances: readonly ServiceInstance[], place: NodePlace): UpstreamReplica[] {
  const regionDistance = new Map<string, number>();
  for (const instance of instances) {
    const region = instance.meta.region ?? '';
    if (region === place.region) continue;
    const at = placeOf(instance);
    const distance = at ? haversineKm(place, at) : Infinity;
    regionDistance.set(region, Math.min(regionDistance.get(region) ?? Infinity, distance));
  }
  const order = [...regionDistance.entries()].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0])).map(([region]) => region);
  return instances.flatMap((instance) => {
    const replica = registeredReplica(instance);
    const region = instance.meta.region ?? '';
    return replica ? [{ ...replica, rank: region === place.region ? 0 : 1 + order.indexOf(region) }] : [];
  });
}

export function staticShieldReplicas(urls: readonly string[]): UpstreamReplica[] {
  return urls.map((url, index) => {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TypeError(`shield URL must be http(s), got ${url}`);
    return { id: `shield-${index + 1}@${parsed.host}`, url: parsed.origin };
  });
}

/**
 * How long a shield Consul stops listing stays in the list. A health check missed under load would
 * otherwise send the region's misses straight to the origins for a moment (one extra origin fetch
 * each); a shield that is really gone fails its requests at once, and the client ejects it.
 */
export const SHIELD_LINGER_MS = 15_000;

/** The listed shields plus those listed within `lingerMs`, in one list (applied again as they expire). */
export function lingeringReplicas(lingerMs: number, apply: (replicas: readonly UpstreamReplica[]) => void): { update(replicas: readonly UpstreamReplica[]): void; stop(): void } {
  const lastSeen = new Map<string, { replica: UpstreamReplica; at: number; listed: boolean }>();
  let timer: NodeJS.Timeout | undefined;
  const publish = (): void => {
    const now = Date.now();
    for (const [id, seen] of lastSeen) if (!seen.listed && now - seen.at >= lingerMs) lastSeen.delete(id);
    apply([...lastSeen.values()].map((seen) => seen.replica));
    clearTimeout(timer);
    const lingering = [...lastSeen.values()].filter((seen) => !seen.listed);
    if (lingering.length > 0) {
      timer = setTimeout(publish, Math.max(0, Math.min(...lingering.map((seen) => seen.at + lingerMs - now))) + 10);
      timer.unref();
    }
  };
  return {
    update(replicas) {
      const now = Date.now();
      const listed = new Set(replicas.map((replica) => replica.id));
      for (const [id, seen] of lastSeen) {
        if (!listed.has(id) && seen.listed) {
          seen.listed = false;
          seen.at = now;
        }
      }
      for (const replica of replicas) lastSeen.set(replica.id, { replica, at: now, listed: true });
      publish();
    },
    stop: () => clearTimeout(timer),
  };
}

/** Shields are upstreams like origins: the same meta `url` and the same allow-list (`--origin-allow`) screen them. */
export function startConsulShieldSource(
  consul: ConsulConnection,
  place: NodePlace,
  logger: Logger,
  allow: readonly IpPrefix[],
  apply: (replicas: readonly UpstreamReplica[]) => void,
): OriginSource {
  const lingering = lingeringReplicas(SHIELD_LINGER_MS, apply);
  const registrations = createRegistrationScreen<ServiceInstance>({
    service: SHIELD_SERVICE,
    allow,
    read: (instance) => {
      const reading = readOriginRegistration(instance);
      return 'value' in reading ? { value: instance, url: reading.url } : reading;
    },
    logger,
  });
  const screen = { screen: (instances: readonly ServiceInstance[]) => rankShields(registrations.screen(instances), place), ignoredCounts: () => registrations.ignoredCounts() };
  const source = startConsulReplicaSource(consul, SHIELD_SERVICE, logger, screen, (replicas) => lingering.update(replicas));
  return {
    ready: source.ready,
    get reachable() {
      return source.reachable;
    },
    ignoredCounts: () => source.ignoredCounts(),
    stop: () => {
      lingering.stop();
      source.stop();
    },
  };
}
