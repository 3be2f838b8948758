// Consul's catalog is written by whoever holds a token that may register a service, so what it says
// about an origin or an edge is checked before anything is sent there: a registration without the
// meta its role registers, or outside the operator's allow-list of addresses, is ignored. Each is
// logged when it first appears or its reason changes (not on every blocking answer), and the
// currently ignored ones are counted by reason for /metrics.
import { parseIpAddress, parseIpPrefix, prefixContains, type IpPrefix } from '../net/ip-prefix-table.js';
import { OptionError } from '../runtime/command-options.js';
import type { Logger } from '../runtime/logger.js';
import type { ServiceInstance } from './service-watch.js';

/** Why a registration was ignored; the metric label. */
export type IgnoredReason = 'bad-meta' | 'address-not-allowed' | 'url-not-allowed';

export const IGNORED_REASONS: readonly IgnoredReason[] = ['bad-meta', 'address-not-allowed', 'url-not-allowed'];

/** What a registration's meta says, read and validated by the role that uses it. */
export type RegistrationReading<T> = { readonly value: T; readonly url: string } | { readonly reason: string };

export interface RegistrationScreenOptions<T> {
  readonly service: string;
  /** Prefixes both the registered address and the advertised URL's host must lie in; empty = any. */
  readonly allow: readonly IpPrefix[];
  /** Reads the registration's meta into what the role uses (and the URL it will be reached at). */
  readonly read: (instance: ServiceInstance) => RegistrationReading<T>;
  readonly logger: Logger;
}

export interface RegistrationScreen<T> {
  /** What the registrations that pass say, in their order. */
  screen(instances: readonly ServiceInstance[]): T[];
  /** The registrations the last screen ignored, by reason. */
  ignoredCounts(): Readonly<Record<IgnoredReason, number>>;
}

/** `--origin-allow` / `--edge-allow` values (CIDR, IPv4 or IPv6) checked at start-up; a bad one names the flag. */
export function allowListFromFlag(flag: string, values: readonly string[]): IpPrefix[] {
  return values.map((text) => {
    try {
      return parseIpPrefix(text);
    } catch (error) {
      throw new OptionError(flag, (error as Error).message);
    }
  });
}

function allowed(allow: readonly IpPrefix[], host: string): boolean {
  const address = parseIpAddress(host.replace(/^\[|\]$/g, ''));
  return address !== undefined && allow.some((prefix) => prefixContains(prefix, address));
}

/** Why `instance` is ignored, or its reading when it passes. */
export function screenRegistration<T>(instance: ServiceInstance, allow: readonly IpPrefix[], read: (instance: ServiceInstance) => RegistrationReading<T>): { value: T } | { reason: IgnoredReason; detail: string } {
  const reading = read(instance);
  if ('reason' in reading) return { reason: 'bad-meta', detail: reading.reason };
  if (allow.length === 0) return { value: reading.value };
  if (!allowed(allow, instance.address)) return { reason: 'address-not-allowed', detail: `address ${instance.address} is outside the allow-list` };
  const host = new URL(reading.url).hostname;
  if (!allowed(allow, host)) {
    const what = parseIpAddress(host.replace(/^\[|\]$/g, '')) === undefined ? 'is a name, not an address in the allow-list' : 'is outside the allow-list';
    return { reason: 'url-not-allowed', detail: `url host ${host} ${what}` };
  }
  return { value: reading.value };
}

export function createRegistrationScreen<T>(options: RegistrationScreenOptions<T>): RegistrationScreen<T> {
  const log = options.logger.child({ component: 'registration-screen', service: options.service });
  // Registration id → the detail last logged for it, while it stays ignored.
  let ignored = new Map<string, { reason: IgnoredReason; detail: string }>();
  return {
    screen(instances) {
      const accepted: T[] = [];
      const next = new Map<string, { reason: IgnoredReason; detail: string }>();
      for (const instance of instances) {
        const result = screenRegistration(instance, options.allow, options.read);
        if ('value' in result) {
          accepted.push(result.value);
          continue;
        }
        next.set(instance.id, result);
        if (ignored.get(instance.id)?.detail !== result.detail) {
          log.warn({ id: instance.id, address: instance.address, port: instance.port, meta: instance.meta, reason: result.reason, detail: result.detail }, `ignoring a ${options.service} registration`);
        }
      }
      ignored = next;
      return accepted;
    },
    ignoredCounts() {
      const counts = Object.fromEntries(IGNORED_REASONS.map((reason) => [reason, 0])) as Record<IgnoredReason, number>;
      for (const { reason } of ignored.values()) counts[reason]++;
      return counts;
    },
  };
}
