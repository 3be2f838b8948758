import { request, type Dispatcher } from 'undici';
import { classifyConnectionError, type ConnectionFailure } from './connection-error.js';
import type { Logger } from '../../infra/runtime/logger.js';
import type { EdgeNode } from '../discovery/edge-node.js';
import type { EdgeSnapshot } from '../discovery/edge-snapshot.js';

/** Why an edge was taken out; reused in logs, metrics and /status. */
export type EjectionReason = ConnectionFailure | 'probe-failed';

export type EdgeHealthState = 'healthy' | 'ejected' | 'probing';

export interface EdgeHealth {
  readonly state: EdgeHealthState;
  readonly reason?: EjectionReason;
  readonly ejectedAt?: number;
  /** When the next readmission probe runs (epoch ms). */
  readonly retryAt?: number;
  readonly ejections: number;
}

export interface PassiveHealthOptions {
  readonly logger: Logger;
  /** First back-off; doubles with each failed readmission up to maxBackoffMs. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  /** Checks the edge's liveness: undefined when alive, else why not. */
  readonly probe: (edge: EdgeNode) => Promise<EjectionReason | undefined>;
  readonly onEject?: (edge: EdgeNode, reason: EjectionReason) => void;
  readonly onReadmit?: (edge: EdgeNode) => void;
}

export interface PassiveHealth {
  isAvailable(edgeId: string): boolean;
  /** Takes the edge out at once; it stays out for the back-off and until a probe succeeds. */
  eject(edge: EdgeNode, reason: EjectionReason): void;
  /** Something hinted at trouble (a viewer report, a dropped connection): probe now, eject on failure. */
  suspect(edge: EdgeNode): void;
  /**
   * The edge's own word on whether it is alive: its /healthz probed now (one probe at a time per
   * edge, shared by every caller), ejected if that fails. Resolves whether it is still available.
   */
  confirm(edge: EdgeNode): Promise<boolean>;
  health(edgeId: string): EdgeHealth;
  /** The current Consul view: an edge is only probed back in while Consul lists it as passing. */
  setSnapshot(snapshot: EdgeSnapshot): void;
  stop(): void;
}

interface Ejection {
  edge: EdgeNode;
  reason: EjectionReason;
  ejectedAt: number;
  retryAt: number;
  failedProbes: number;
  probing: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** GET <edge>/healthz within `timeoutMs`: undefined for a 2xx, else the reason it failed. */
export async function probeHealthz(edge: EdgeNode, timeoutMs: number, dispatcher?: Dispatcher): Promise<EjectionReason | undefined> {
  try {
    const response = await request(`${edge.url}/healthz`, {
      method: 'GET',
      ...(dispatcher ? { dispatcher } : {}),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body.dump();
    return response.statusCode >= 200 && response.statusCode < 300 ? undefined : 'probe-failed';
  } catch (error) {
    return classifyConnectionError(error) ?? 'probe-failed';
  }
}

export function createPassiveHealth(options: PassiveHealthOptions): PassiveHealth {
  if (!(options.backoffMs > 0) || !(options.maxBackoffMs >= options.backoffMs)) {
    throw new TypeError(`backoffMs must be > 0 and ≤ maxBackoffMs, got ${options.backoffMs} / ${options.maxBackoffMs}`);
  }
  const log = options.logger.child({ component: 'passive-health' });
  const ejected = new Map<string, Ejection>();
  const ejectionCounts = new Map<string, number>();
  const confirming = new Map<string, Promise<boolean>>();
  let snapshot: EdgeSnapshot | undefined;
  let stopped = false;

  const schedule = (ejection: Ejection): void => {
    clearTimeout(ejection.timer);
    if (stopped) return;
    ejection.timer = setTimeout(() => void attemptReadmission(ejection), Math.max(0, ejection.retryAt - Date.now()));
    ejection.timer.unref();
  };

  const attemptReadmission = async (ejection: Ejection): Promise<void> => {
    if (ejected.get(ejection.edge.id) !== ejection || stopped) return;
    const current = snapshot?.byId.get(ejection.edge.id);
    if (!current) {
      // Consul does not list it as passing: wait for a snapshot that does.
      return;
    }
    ejection.probing = true;
    const failure = await options.probe(current);
    ejection.probing = false;
    if (ejected.get(ejection.edge.id) !== ejection || stopped) return;
    if (failure === undefined) {
      ejected.delete(ejection.edge.id);
      log.info({ edge: ejection.edge.id, outFor: Date.now() - ejection.ejectedAt }, 'edge readmitted after a successful probe');
      options.onReadmit?.(current);
      return;
    }
    ejection.failedProbes++;
    ejection.retryAt = Date.now() + Math.min(options.maxBackoffMs, options.backoffMs * 2 ** ejection.failedProbes);
    log.info({ edge: ejection.edge.id, failure, retryAt: new Date(ejection.retryAt).toISOString() }, 'edge still failing its probe');
    schedule(ejection);
  };

  const health: PassiveHealth = {
    isAvailable: (edgeId) => !ejected.has(edgeId),
    suspect(edge) {
      void health.confirm(edge);
    },
    confirm(edge) {
      if (ejected.has(edge.id) || stopped) return Promise.resolve(!ejected.has(edge.id));
      const running = confirming.get(edge.id);
      if (running) return running;
      const confirmed = options.probe(edge).then((failure) => {
        confirming.delete(edge.id);
        if (failure) health.eject(edge, failure);
        return health.isAvailable(edge.id);
      });
      confirming.set(edge.id, confirmed);
      return confirmed;
    },
    eject(edge, reason) {
      if (ejected.has(edge.id) || stopped) return;
      const now = Date.now();
      const ejection: Ejection = { edge, reason, ejectedAt: now, retryAt: now + options.backoffMs, failedProbes: 0, probing: false, timer: undefined };
      ejected.set(edge.id, ejection);
      ejectionCounts.set(edge.id, (ejectionCounts.get(edge.id) ?? 0) + 1);
      log.warn({ edge: edge.id, url: edge.url, reason, backoffMs: options.backoffMs }, 'edge ejected');
      options.onEject?.(edge, reason);
      schedule(ejection);
    },
    health(edgeId) {
      const ejection = ejected.get(edgeId);
      const ejections = ejectionCounts.get(edgeId) ?? 0;
      if (!ejection) return { state: 'healthy', ejections };
      return {
        state: ejection.probing ? 'probing' : 'ejected',
        reason: ejection.reason,
        ejectedAt: ejection.ejectedAt,
        retryAt: ejection.retryAt,
        ejections,
      };
    },
    setSnapshot(next) {
      snapshot = next;
      for (const ejection of ejected.values()) {
        const current = next.byId.get(ejection.edge.id);
        // Back in Consul after its back-off ran out while it was missing: probe it now.
        if (current && ejection.retryAt <= Date.now() && !ejection.probing) schedule(ejection);
      }
    },
    stop() {
      stopped = true;
      for (const ejection of ejected.values()) clearTimeout(ejection.timer);
    },
  };
  return health;
}
