import type { Logger } from '../../infra/runtime/logger.js';
import { watchService, type ServiceInstance } from '../../infra/consul/service-watch.js';
import { createRegistrationScreen, type IgnoredReason, type RegistrationReading } from '../../infra/consul/registration-screen.js';
import type { IpPrefix } from '../../infra/net/ip-prefix-table.js';
import { buildEdgeNode, parseStaticEdgeSpec, type EdgeNode } from './edge-node.js';
import { createSnapshot, type EdgeSnapshot } from './edge-snapshot.js';
import type { ConsulConnection } from '../../infra/consul/consul-connection.js';

export const EDGE_SERVICE = 'streamedge-edge';
export const DEFAULT_CONSUL_WAIT_MS = 10_000;

export interface DiscoveryStatus {
  readonly source: 'consul' | 'static';
  /** False while Consul cannot be reached (always true for a static list). */
  readonly reachable: boolean;
  /** Epoch ms of the last answer that confirmed the edge list. */
  readonly lastSuccessAt: number | undefined;
  readonly lastError: string | undefined;
  /** Consul registrations ignored at the last change, by reason (bad meta, outside --edge-allow). */
  readonly ignored?: Readonly<Record<IgnoredReason, number>>;
}

/** Where edges come from; each source hands over whole snapshots. */
export interface EdgeDiscovery {
  /** Resolves once the first snapshot has been delivered (Consul answered, or the static list). */
  readonly ready: Promise<void>;
  status(): DiscoveryStatus;
  stop(): void;
}

/** What an edge registers (edge-command.ts): meta region, lat, lon and url (optionally weight), validated. */
export function readEdgeRegistration(instance: ServiceInstance): RegistrationReading<EdgeNode> {
  const result = buildEdgeNode({
    id: instance.id,
    url: instance.meta.url,
    region: instance.meta.region,
    lat: instance.meta.lat,
    lon: instance.meta.lon,
    weight: instance.meta.weight,
  });
  return 'edge' in result ? { value: result.edge, url: result.edge.url } : result;
}

export function createConsulDiscovery(options: {
  readonly consul: ConsulConnection;
  readonly logger: Logger;
  /** Edges must register their address and url host inside these prefixes (empty = any). */
  readonly allow?: readonly IpPrefix[];
  readonly onSnapshot: (snapshot: EdgeSnapshot) => void;
  /**
   * How long each blocking query may wait for a change (default 10 s). A hung agent is noticed only
   * when a query outlives this (plus a tenth), and counted well again only at the end of one.
   */
  readonly waitMs?: number;
}): EdgeDiscovery {
  const log = options.logger.child({ component: 'consul-discovery' });
  const screen = createRegistrationScreen({ service: EDGE_SERVICE, allow: options.allow ?? [], read: readEdgeRegistration, logger: options.logger });
  const toStatus = (status: { reachable: boolean; lastSuccessAt: number | undefined; lastError: string | undefined }): DiscoveryStatus => ({
    source: 'consul',
    ...status,
    ignored: screen.ignoredCounts(),
  });
  const watch = watchService({
    consul: options.consul,
    service: EDGE_SERVICE,
    logger: options.logger,
    wait: `${options.waitMs ?? DEFAULT_CONSUL_WAIT_MS}ms`,
    onChange: (instances) => {
      const edges = screen.screen(instances);
      const snapshot = createSnapshot(edges, 'consul');
      log.info({ version: snapshot.version, edges: edges.map((edge) => edge.id) }, 'edge snapshot');
      options.onSnapshot(snapshot);
    },
  });
  return {
    ready: watch.ready,
    status: () => toStatus(watch.status),
    stop: () => watch.stop(),
  };
}

/** Parses every `--edge` spec up front; a bad one is an error naming it. */
export function parseStaticEdges(specs: readonly string[]): EdgeNode[] {
  const edges: EdgeNode[] = [];
  for (const spec of specs) {
    const result = parseStaticEdgeSpec(spec);
    if (!('edge' in result)) throw new Error(`"${spec}": ${result.reason}`);
    if (edges.some((edge) => edge.id === result.edge.id)) throw new Error(`"${spec}": edge id "${result.edge.id}" given twice`);
    edges.push(result.edge);
  }
  return edges;
}

export function createStaticDiscovery(edges: readonly EdgeNode[], onSnapshot: (snapshot: EdgeSnapshot) => void): EdgeDiscovery {
  const startedAt = Date.now();
  onSnapshot(createSnapshot(edges, 'static', startedAt));
  return {
    ready: Promise.resolve(),
    status: () => ({ source: 'static', reachable: true, lastSuccessAt: startedAt, lastError: undefined }),
    stop: () => {},
  };
}
