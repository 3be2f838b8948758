import { OptionError } from '../runtime/command-options.js';
import type { Logger } from '../runtime/logger.js';
import { consulErrorMessage, createConsulClient } from './consul-client.js';
import type { ConsulConnection } from './consul-connection.js';

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

/** Whether a bind address listens on every interface, so it names no address others can use. */
function isWildcardHost(host: string): boolean {
  return WILDCARD_HOSTS.has(host);
}

/**
 * A node bound to every interface that registers in Consul must say, with --url, where the others
 * reach it: the bind address names no such place. `reachedBy` completes "the base URL …".
 */
export function requireAdvertisedUrl(options: { readonly host: string; readonly consul?: string; readonly url?: string }, reachedBy: string): void {
  if (options.consul !== undefined && isWildcardHost(options.host) && options.url === undefined) {
    throw new OptionError('--url', `required with --host ${options.host} and --consul: the base URL ${reachedBy}`);
  }
}

/** The address the local Consul agent checks: a wildcard bind is reachable on loopback. */
export function checkedAddress(host: string): string {
  return isWildcardHost(host) ? '127.0.0.1' : host.replace(/^\[|\]$/g, '');
}

export interface ServiceRegistrationOptions {
  readonly consul: ConsulConnection;
  readonly name: string;
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly meta?: Readonly<Record<string, string>>;
  readonly tags?: readonly string[];
  /** Path of the HTTP check on this service, e.g. /healthz */
  readonly checkPath: string;
  /** The service serves HTTPS: the agent's check verifies its certificate for this name (never skips verification). */
  readonly checkTlsServerName?: string;
  readonly checkInterval?: string;
  readonly checkTimeout?: string;
  readonly deregisterCriticalAfter?: string;
  /** How often to confirm the agent still knows the service (a restarted agent forgets it). */
  readonly resyncIntervalMs?: number;
  readonly logger: Logger;
}

export interface ServiceRegistration {
  /** Registers and keeps the registration alive across agent restarts. */
  start(): Promise<void>;
  /** Maintenance mode takes the instance out of every passing-only query at once. */
  setMaintenance(enabled: boolean, reason: string): Promise<void>;
  /** Stops the resync loop and removes the service from the agent. */
  deregister(): Promise<void>;
}

export function createServiceRegistration(options: ServiceRegistrationOptions): ServiceRegistration {
  if (!options.id) throw new TypeError('service registration: id must not be empty');
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
    throw new TypeError(`service registration: port must be 1..65535, got ${options.port}`);
  }
  const consul = createConsulClient(options.consul);
  const log = options.logger.child({ consul: options.consul.url, serviceId: options.id });
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let maintenance: { reason: string } | undefined;

  // Consul's own reason (a missing ACL permission, a bad check) instead of the client's "forbidden".
  const register = async (): Promise<void> => {
    try {
      await consul.agent.service.register({
        name: options.name,
        id: options.id,
        address: options.address,
        port: options.port,
        tags: [...(options.tags ?? [])],
        meta: { ...(options.meta ?? {}) },
        check: {
          name: `${options.name} HTTP ${options.checkPath}`,
          http: `${options.checkTlsServerName === undefined ? 'http' : 'https'}://${options.address.includes(':') ? `[${options.address}]` : options.address}:${options.port}${options.checkPath}`,
          ...(options.checkTlsServerName === undefined ? {} : { tlsservername: options.checkTlsServerName, tlsskipverify: false }),
          interval: options.checkInterval ?? '2s',
          timeout: options.checkTimeout ?? '1s',
          deregistercriticalserviceafter: options.deregisterCriticalAfter ?? '1m',
        },
      });
      if (maintenance) await consul.agent.service.maintenance({ id: options.id, enable: true, reason: maintenance.reason });
    } catch (error) {
      throw new Error(consulErrorMessage(error), { cause: error });
    }
  };

  const resync = async (): Promise<void> => {
    try {
      const services = (await consul.agent.service.list()) as Record<string, unknown>;
      if (!stopped && !(options.id in services)) {
        log.warn('service missing from the Consul agent (agent restarted?); registering again');
        await register();
      }
    } catch (error) {
      log.warn({ err: consulErrorMessage(error) }, 'Consul agent unreachable; will retry');
    }
  };

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => void resync().finally(schedule), options.resyncIntervalMs ?? 5000);
    timer.unref();
  };

  return {
    async start() {
      await register();
      log.info({ name: options.name }, 'registered in Consul');
      schedule();
    },
    async setMaintenance(enabled, reason) {
      maintenance = enabled ? { reason } : undefined;
      await consul.agent.service.maintenance({ id: options.id, enable: enabled, reason });
      log.info({ enabled, reason }, 'Consul maintenance mode');
    },
    async deregister() {
      stopped = true;
      clearTimeout(timer);
      await consul.agent.service.deregister(options.id);
      log.info('deregistered from Consul');
    },
  };
}
