// Where origin replicas come from: a static list of URLs, or Consul's passing instances of
// `streamedge-origin` (blocking queries; the last good list stays when Consul is unreachable).
import type { Logger } from '../../infra/runtime/logger.js';
import { watchService, type ServiceInstance } from '../../infra/consul/service-watch.js';
import type { UpstreamReplica } from './upstream-client.js';
import type { ConsulConnection } from '../../infra/consul/consul-connection.js';

export const ORIGIN_SERVICE = 'streamedge-origin';

export interface OriginSource {
  /** Resolves once the first list is known (at once for a static list). */
  readonly ready: Promise<void>;
  /** Whether Consul answered recently (always true for a static list). */
  readonly reachable: boolean;
  stop(): void;
}

export function staticOriginReplicas(urls: readonly string[]): UpstreamReplica[] {
  return urls.map((url, index) => {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TypeError(`origin URL must be http(s), got ${url}`);
    return { id: `origin-${index + 1}@${parsed.host}`, url: parsed.origin };
  });
}

export function startStaticOriginSource(urls: readonly string[], apply: (replicas: readonly UpstreamReplica[]) => void): OriginSource {
  apply(staticOriginReplicas(urls));
  return { ready: Promise.resolve(), reachable: true, stop: () => {} };
}

/** The URL an origin advertises (meta `url`, its `--url`) when it is a plain http(s) base URL, else its address and port. */
export function originReplicaFor(instance: ServiceInstance): UpstreamReplica {
  const advertised = URL.canParse(instance.meta.url ?? '') ? new URL(instance.meta.url!) : undefined;
  if (advertised && (advertised.protocol === 'http:' || advertised.protocol === 'https:') && advertised.pathname === '/' && !advertised.search && !advertised.username) {
    return { id: instance.id, url: advertised.origin };
  }
  const host = instance.address.includes(':') ? `[${instance.address}]` : instance.address;
  return { id: instance.id, url: `http://${host}:${instance.port}` };
}

/** Follows a Consul service's passing instances as upstream replicas (origins, shields). */
export function startConsulReplicaSource(
  consul: ConsulConnection,
  service: string,
  logger: Logger,
  toReplicas: (instances: readonly ServiceInstance[]) => UpstreamReplica[],
  apply: (replicas: readonly UpstreamReplica[]) => void,
): OriginSource {
  const watch = watchService({
    consul,
    service,
    logger,
    onChange: (instances) => {
      const replicas = toReplicas(instances);
      logger.info({ service, replicas: replicas.map((replica) => `${replica.id}=${replica.url}${replica.rank ? ` rank ${replica.rank}` : ''}`) }, 'upstream replicas changed');
      apply(replicas);
    },
  });
  return {
    ready: watch.ready,
    get reachable() {
      return watch.status.reachable;
    },
    stop: () => watch.stop(),
  };
}

export function startConsulOriginSource(consul: ConsulConnection, logger: Logger, apply: (replicas: readonly UpstreamReplica[]) => void): OriginSource {
  return startConsulReplicaSource(consul, ORIGIN_SERVICE, logger, (instances) => instances.map(originReplicaFor), apply);
}
