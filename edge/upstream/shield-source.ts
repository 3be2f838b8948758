// Where an edge's shields come from: a static `--shield` list, or Consul's passing instances of
// `streamedge-shield` — a service of its own, so the balancer, which watches `streamedge-edge`,
// never sends a viewer to one. The edge's own region's shields come first (rank 0); other regions'
// follow as a fallback, nearest region first. Within a rank the upstream client picks a shield per
// key by rendezvous hashing with bounded loads.
import { haversineKm } from '../../infra/geo/geo-distance.js';
import type { Logger } from '../../infra/runtime/logger.js';
import type { ServiceInstance } from '../../infra/consul/service-watch.js';
import type { ConsulConnection } from '../../infra/consul/consul-connection.js';
import { originReplicaFor, startConsulReplicaSource, type OriginSource } from './origin-source.js';
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
  return instances.map((instance) => {
    const region = instance.meta.region ?? '';
    return { ...originReplicaFor(instance), rank: region === place.region ? 0 : 1 + order.indexOf(region) };
  });
}

export function staticShieldReplicas(urls: readonly string[]): UpstreamReplica[] {
  return urls.map((url, index) => {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TypeError(`shield URL must be http(s), got ${url}`);
    return { id: `shield-${index + 1}@${parsed.host}`, url: parsed.origin };
  });
}

export function startConsulShieldSource(consul: ConsulConnection, place: NodePlace, logger: Logger, apply: (replicas: readonly UpstreamReplica[]) => void): OriginSource {
  return startConsulReplicaSource(consul, SHIELD_SERVICE, logger, (instances) => rankShields(instances, place), apply);
}
