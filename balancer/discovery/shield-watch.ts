// The shield tier as the balancer shows it on /status and the dashboard scrapes it: the passing
// `streamedge-shield` instances, for operators only. The balancer never routes to a shield (it
// selects from `streamedge-edge`). A shield registers the meta an edge does, and is screened as one
// (--edge-allow) before the dashboard sends it a request.
import type { ConsulConnection } from '../../infra/consul/consul-connection.js';
import { createRegistrationScreen } from '../../infra/consul/registration-screen.js';
import { watchService } from '../../infra/consul/service-watch.js';
import type { IpPrefix } from '../../infra/net/ip-prefix-table.js';
import type { Logger } from '../../infra/runtime/logger.js';
import { readEdgeRegistration } from './edge-discovery.js';

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

export function watchShields(consul: ConsulConnection, logger: Logger, allow: readonly IpPrefix[] = []): ShieldWatch {
  let shields: readonly ShieldStatus[] = [];
  const screen = createRegistrationScreen({ service: SHIELD_SERVICE, allow, read: readEdgeRegistration, logger });
  const watch = watchService({
    consul,
    service: SHIELD_SERVICE,
    logger,
    onChange: (instances) => {
      shields = screen
        .screen(instances)
        .map(({ id, region, url }) => ({ id, region, url }))
        .sort((a, b) => a.region.localeCompare(b.region) || a.id.localeCompare(b.id));
    },
  });
  return { shields: () => shields, stop: () => watch.stop() };
}
