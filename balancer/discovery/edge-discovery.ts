import type { Logger } from '../../infra/runtime/logger.js';
import { watchService, type ServiceInstance } from '../../infra/consul/service-watch.js';
import { buildEdgeNode, parseStaticEdgeSpec, type EdgeNode } from './edge-node.js';
import { createSnapshot, type EdgeSnapshot } from './edge-snapshot.js';
import type { ConsulConnection } from '../../infra/consul/consul-connection.js';

export const EDGE_SERVICE = 'streamedge-edge';

export interface DiscoveryStatus {
  readonly source: 'consul' | 'static';
  /** False while Consul cannot be reached (always true for a static list). */
  readonly reachable: boolean;
  /** Epoch ms of the last answer that confirmed the edge list. */
  readonly lastSuccessAt: number | undefined;
  readonly lastError: string | undefined;
}

/** Where edges come from; each source hands over whole snapshots. */
export interface EdgeDiscovery {
  /** Resolves once the first snapshot has been delivered (Consul answered, or the static list). */
  readonly ready: Promise<void>;
  status(): DiscoveryStatus;
  stop(): void;
}

/** Consul entry → edge; an entry with bad meta is skipped with the reason. */
export function edgeFromInstance(instance: ServiceInstance): { edge: EdgeNode } | { reason: string } {
  return buildEdgeNode({
    id: instance.id,
    url: instance.meta.url,
    region: instance.meta.region,
    lat: instance.meta.lat,
    lon: instance.meta.lon,
    weight: instance.meta.weight,
  });
}

export function createConsulDiscovery(options: {
  readonly consul: ConsulConnection;
  readonly logger: Logger;
  readonly onSnapshot: (snapshot: EdgeSnapshot) => void;
}): EdgeDiscovery {
  const log = options.logger.child({ component: 'consul-discovery' });
  // Only log a skipped edge again when its reason changes, not on every blocking answer.
  const skipped = new Map<string, string>();
  const toStatus = (status: { reachable: boolean; lastSuccessAt: number | undefined; lastError: string | undefined }): DiscoveryStatus => ({
    source: 'consul',
    ...status,
  });
  const watch = watchService({
    consul: options.consul,
    service: EDGE_SERVICE,
    logger: options.logger,
    wait: '10s',
    onChange: (instances) => {
      const edges: EdgeNode[] = [];
      for (const instance of instances) {
        const result = edgeFromInstance(instance);
        if ('edge' in result) {
          skipped.delete(instance.id);
          edges.push(result.edge);
        } else if (skipped.get(instance.id) !== result.reason) {
          skipped.set(instance.id, result.reason);
          log.warn({ edge: instance.id, reason: result.reason, meta: instance.meta }, 'skipping edge with bad service meta');
        }
      }
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
