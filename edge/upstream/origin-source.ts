// Where origin replicas come from: a static list of URLs, or Consul's passing instances of
// `streamedge-origin` (blocking queries; the last good list stays when Consul is unreachable),
// each checked first: its meta `url` and, with --origin-allow, its addresses (registration-screen.ts).
import type { Logger } from '../../infra/runtime/logger.js';
import type { IpPrefix } from '../../infra/net/ip-prefix-table.js';
import { createRegistrationScreen, IGNORED_REASONS, type IgnoredReason, type RegistrationReading } from '../../infra/consul/registration-screen.js';
import { watchService, type ServiceInstance } from '../../infra/consul/service-watch.js';
import type { UpstreamReplica } from './upstream-client.js';
import type { ConsulConnection } from '../../infra/consul/consul-connection.js';

export const ORIGIN_SERVICE = 'streamedge-origin';

export interface OriginSource {
  /** Resolves once the first list is known (at once for a static list). */
  readonly ready: Promise<void>;
  /** Whether Consul answered recently (always true for a static list). */
  readonly reachable: boolean;
  /** Registrations ignored at the last change, by reason (none for a static list). */
  ignoredCounts(): Readonly<Record<IgnoredReason, number>>;
  stop(): void;
}

const NONE_IGNORED = Object.freeze(Object.fromEntries(IGNORED_REASONS.map((reason) => [reason, 0])) as Record<IgnoredReason, number>);

export function staticOriginReplicas(urls: readonly string[]): UpstreamReplica[] {
  return urls.map((url, index) => {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TypeError(`origin URL must be http(s), got ${url}`);
    return { id: `origin-${index + 1}@${parsed.host}`, url: parsed.origin };
  });
}

export function startStaticOriginSource(urls: readonly string[], apply: (replicas: readonly UpstreamReplica[]) => void): OriginSource {
  apply(staticOriginReplicas(urls));
  return { ready: Promise.resolve(), reachable: true, ignoredCounts: () => NONE_IGNORED, stop: () => {} };
}

/**
 * What an origin registers (origin-command.ts): meta `url`, the plain http(s) base URL edges reach
 * it at (its --url). A registration without one is not an origin's.
 */
export function readOriginRegistration(instance: ServiceInstance): RegistrationReading<UpstreamReplica> {
  const text = instance.meta.url;
  if (text === undefined || text === '') return { reason: 'missing meta url' };
  if (!URL.canParse(text)) return { reason: `meta url is not an absolute URL: "${text}"` };
  const url = new URL(text);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { reason: `meta url must be http or https, got "${text}"` };
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) return { reason: `meta url must be a plain base URL (no path, query or credentials), got "${text}"` };
  return { value: { id: instance.id, url: url.origin }, url: url.origin };
}

/** What turns a service's passing instances into replicas, and counts the registrations it ignored. */
export interface ReplicaScreen {
  screen(instances: readonly ServiceInstance[]): UpstreamReplica[];
  ignoredCounts(): Readonly<Record<string, number>>;
}

/** A registration's advertised base URL as a replica (origins, shields and edges all register meta `url`), or undefined. */
export function registeredReplica(instance: ServiceInstance): UpstreamReplica | undefined {
  const reading = readOriginRegistration(instance);
  return 'value' in reading ? reading.value : undefined;
}

/** Follows a Consul service's passing instances as upstream replicas (origins, shields). */
export function startConsulReplicaSource(
  consul: ConsulConnection,
  service: string,
  logger: Logger,
  screen: ReplicaScreen,
  apply: (replicas: readonly UpstreamReplica[]) => void,
): OriginSource {
  const watch = watchService({
    consul,
    service,
    logger,
    onChange: (instances) => {
      const replicas = screen.screen(instances);
      logger.info({ service, replicas: replicas.map((replica) => `${replica.id}=${replica.url}${replica.rank ? ` rank ${replica.rank}` : ''}`) }, 'upstream replicas changed');
      apply(replicas);
    },
  });
  return {
    ready: watch.ready,
    get reachable() {
      return watch.status.reachable;
    },
    ignoredCounts: () => screen.ignoredCounts(),
    stop: () => watch.stop(),
  };
}

export function startConsulOriginSource(consul: ConsulConnection, logger: Logger, allow: readonly IpPrefix[], apply: (replicas: readonly UpstreamReplica[]) => void): OriginSource {
  const screen = createRegistrationScreen({ service: ORIGIN_SERVICE, allow, read: readOriginRegistration, logger });
  return startConsulReplicaSource(consul, ORIGIN_SERVICE, logger, screen, apply);
}
