// The shield tier as the balancer shows it on /status: the passing `streamedge-shield` instances,
// for operators only. The balancer never routes to a shield (it selects from `streamedge-edge`).
import type { ConsulConnection } from '../../infra/consul/consul-connection.js';
import { watchService } from '../../infra/consul/service-watch.js';
import type { Logger } from '../../infra/runtime/logger.js';

export const SHIELD_SERVICE = 'streamedge-shield';

export interface ShieldStatus {
  readonly id: string;
  readonly region: string;
  readonly url: string;
}

export interface ShieldWatch {
  /** The passing shields, by region then id (empty until Consul first answers, or without shields). */
  readonly shields: () => readonly ShieldStatus[];
  stop(): void;
}

export function watchShields(consul: ConsulConnection, logger: Logger): ShieldWatch {
  let shields: readonly ShieldStatus[] = [];
  const watch = watchService({
    consul,
    service: SHIELD_SERVICE,
    logger,
    onChange: (instances) => {
      shields = instances
        .map((instance) => ({ id: instance.id, region: instance.meta.region ?? '', url: instance.meta.url ?? `http://${instance.address}:${instance.port}` }))
        .sort((a, b) => a.region.localeCompare(b.region) || a.id.localeCompare(b.id));
    },
  });
  return { shields: () => shields, stop: () => watch.stop() };
}
