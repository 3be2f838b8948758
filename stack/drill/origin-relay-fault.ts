// origin-slow and origin-corrupt: the hook is Consul, so it works on any deployment the drill can
// reach. A fault relay in front of each chosen replica is registered as a `streamedge-origin`
// instance, then the real replica is put in Consul maintenance: the edges now reach that replica
// only through the relay. Restoring ends maintenance and deregisters the relay. Needs a token that
// may write the origin service (and the replica registered on the agent `--consul` names).
import { waitFor, type DrillFault } from './drill-fault.js';
import type { DrillTarget, TargetService } from './drill-target.js';
import { startFaultRelay, type FaultRelay, type RelayMode } from './fault-relay.js';

export interface OriginRelayFaultOptions {
  readonly target: DrillTarget;
  readonly origins: readonly TargetService[];
  readonly mode: RelayMode;
  /** Where the relay listens; the edges must reach it (default 127.0.0.1 for a local stack). */
  readonly relayHost: string;
  readonly registerTimeoutMs: number;
}

const MAINTENANCE_REASON = 'streamedge drill: replaced by a fault relay';

async function consulOk(target: DrillTarget, what: string, path: string, init: RequestInit): Promise<void> {
  const response = await target.consul(path, init);
  const body = await response.text();
  if (!response.ok) throw new Error(`Consul refused to ${what}: ${response.status} ${body.slice(0, 200)}`);
}

async function passingIds(target: DrillTarget): Promise<Set<string>> {
  const response = await target.consul('/v1/health/service/streamedge-origin?passing=true');
  if (!response.ok) throw new Error(`Consul answered ${response.status}`);
  const entries = (await response.json()) as { Service?: { ID?: string } }[];
  return new Set(entries.flatMap((entry) => (entry.Service?.ID ? [entry.Service.ID] : [])));
}

export function relayIdFor(originId: string): string {
  return `drill-relay-${originId}`;
}

export function createOriginRelayFault(options: OriginRelayFaultOptions): DrillFault {
  const { target, origins, mode } = options;
  if (origins.length === 0) throw new TypeError('origin relay fault: no origin to put a relay in front of');
  const relays: { origin: TargetService; relay: FaultRelay }[] = [];
  const what = mode.kind === 'slow' ? `${mode.delayMs} ms slower` : 'serving inverted bytes under the same ETag';
  const setMaintenance = (id: string, enable: boolean): Promise<void> =>
    consulOk(target, `${enable ? 'enable' : 'disable'} maintenance on ${id}`, `/v1/agent/service/maintenance/${encodeURIComponent(id)}?enable=${enable}&reason=${encodeURIComponent(MAINTENANCE_REASON)}`, { method: 'PUT' });

  /** Undoes every step it can; the first failure is rethrown once all were tried. */
  const undo = async (): Promise<void> => {
    const failures: unknown[] = [];
    for (const { origin, relay } of relays.splice(0)) {
      await setMaintenance(origin.id, false).catch((error: unknown) => failures.push(error));
      await consulOk(target, `deregister ${relayIdFor(origin.id)}`, `/v1/agent/service/deregister/${relayIdFor(origin.id)}`, { method: 'PUT' }).catch((error: unknown) => failures.push(error));
      await relay.close();
    }
    if (failures.length > 0) throw failures[0];
  };

  return {
    description: `${origins.map((origin) => origin.id).join(', ')} ${what} (fault relay registered in Consul, replica in maintenance)`,
    selfRestoring: false,
    inject: async () => {
      for (const origin of origins) {
        const relay = await startFaultRelay({ upstream: origin.url, mode, host: options.relayHost });
        relays.push({ origin, relay });
        const url = new URL(relay.url);
        await consulOk(target, `register ${relayIdFor(origin.id)}`, '/v1/agent/service/register', {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            ID: relayIdFor(origin.id),
            Name: 'streamedge-origin',
            Address: url.hostname,
            Port: Number(url.port),
            Meta: { url: relay.url, drill: mode.kind },
            Check: { HTTP: `${relay.url}/healthz`, Interval: '1s', Timeout: '1s', DeregisterCriticalServiceAfter: '1m' },
          }),
        });
      }
      // The relays pass their checks before any replica leaves, so the edges never lack origins.
      await waitFor('Consul did not list the fault relays as passing', options.registerTimeoutMs, async () => {
        const passing = await passingIds(target);
        return origins.every((origin) => passing.has(relayIdFor(origin.id)));
      });
      for (const origin of origins) await setMaintenance(origin.id, true);
    },
    restore: undo,
    abandon: () => void undo().catch(() => {}),
  };
}
