import type { Logger } from '../runtime/logger.js';
import { consulErrorMessage, createConsulClient } from './consul-client.js';
import type { ConsulConnection } from './consul-connection.js';

/** One passing instance of a service, as validated from Consul's health API. */
export interface ServiceInstance {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly meta: Readonly<Record<string, string>>;
  readonly tags: readonly string[];
}

export interface ServiceWatchStatus {
  /** False while Consul cannot be reached; the last good instance list stays in use. */
  readonly reachable: boolean;
  /** Epoch ms of the last successful answer from Consul (undefined before the first). */
  readonly lastSuccessAt: number | undefined;
  readonly lastError: string | undefined;
}

export interface ServiceWatch {
  readonly instances: readonly ServiceInstance[];
  readonly status: ServiceWatchStatus;
  /** Resolves after the first successful answer from Consul. */
  readonly ready: Promise<void>;
  stop(): void;
}

export interface ServiceWatchOptions {
  readonly consul: ConsulConnection;
  readonly service: string;
  readonly logger: Logger;
  /** Called with a new, frozen list whenever Consul's answer changes. */
  readonly onChange: (instances: readonly ServiceInstance[]) => void;
  readonly wait?: string;
  readonly backoffMaxMs?: number;
}

interface HealthEntry {
  Node?: { Address?: unknown };
  Service?: { ID?: unknown; Address?: unknown; Port?: unknown; Meta?: unknown; Tags?: unknown };
}

/** Consul data is external input: entries that do not make sense are dropped, with the reason. */
export function parseHealthEntries(data: unknown, log?: Logger): ServiceInstance[] {
  if (!Array.isArray(data)) throw new TypeError('Consul health answer is not an array');
  const instances: ServiceInstance[] = [];
  for (const entry of data as HealthEntry[]) {
    const service = entry?.Service;
    const id = service?.ID;
    const address = (typeof service?.Address === 'string' && service.Address) || entry?.Node?.Address;
    const port = service?.Port;
    const reject = (reason: string): void => log?.warn({ entry: service ?? entry, reason }, 'ignoring Consul entry');
    if (typeof id !== 'string' || id === '') {
      reject('missing service ID');
      continue;
    }
    if (typeof address !== 'string' || address === '') {
      reject('missing address');
      continue;
    }
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      reject('port out of range');
      continue;
    }
    const meta: Record<string, string> = {};
    if (service?.Meta && typeof service.Meta === 'object') {
      for (const [key, value] of Object.entries(service.Meta as Record<string, unknown>)) {
        if (typeof value === 'string') meta[key] = value;
      }
    }
    const tags = Array.isArray(service?.Tags) ? service.Tags.filter((tag): tag is string => typeof tag === 'string') : [];
    instances.push(Object.freeze({ id, address, port, meta: Object.freeze(meta), tags: Object.freeze(tags) }));
  }
  return instances.sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * Follows the passing instances of a service with Consul blocking queries. When Consul is
 * unreachable the last good list is kept and the status says so; the watch recovers by itself.
 */
export function watchService(options: ServiceWatchOptions): ServiceWatch {
  const consul = createConsulClient(options.consul);
  const log = options.logger.child({ consul: options.consul.url, watch: options.service });
  let instances: readonly ServiceInstance[] = Object.freeze([]);
  let lastError: string | undefined;
  let lastErrorAt = 0;
  let loggedReachable = false;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const watch = consul.watch({
    method: consul.health.service,
    options: { service: options.service, passing: true, wait: options.wait ?? '30s' } as unknown as Record<string, string>,
    backoffFactor: 100,
    backoffMax: options.backoffMaxMs ?? 2000,
  });
  const failed = (message: string): void => {
    lastError = message;
    lastErrorAt = Date.now();
    if (loggedReachable) log.warn({ err: message }, 'Consul unreachable; keeping the last good list');
    loggedReachable = false;
  };
  let loggedFiltered = false;
  watch.on('change', (data: unknown, response?: { headers?: Record<string, unknown> }) => {
    // With ACLs on, entries this token may not read are left out without an error.
    const filtered = response?.headers?.['x-consul-results-filtered-by-acls'] === 'true';
    if (filtered && !loggedFiltered) log.warn("Consul's ACLs hid entries from this token: give the role's token (service and node read)");
    loggedFiltered = filtered;
    try {
      instances = Object.freeze(parseHealthEntries(data, log));
    } catch (error) {
      failed((error as Error).message);
      return;
    }
    if (!loggedReachable) log.info('Consul reachable');
    loggedReachable = true;
    options.onChange(instances);
    markReady();
  });
  watch.on('error', (error: Error) => failed(consulErrorMessage(error)));

  return {
    get instances() {
      return instances;
    },
    // Derived from times, not events: the client's watch is silent when Consul comes back with an
    // unchanged answer, which still proves it reachable.
    get status() {
      const updatedAt = watch.updateTime() || 0;
      const reachable = updatedAt > 0 && updatedAt > lastErrorAt;
      return { reachable, lastSuccessAt: updatedAt || undefined, lastError: reachable ? undefined : lastError };
    },
    ready,
    stop: () => watch.end(),
  };
}
