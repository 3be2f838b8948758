import type { Agent } from 'undici';
import type { EdgeSnapshot } from '../discovery/edge-snapshot.js';
import type { EjectionReason, PassiveHealth } from './passive-health.js';
import type { EdgeNode } from '../discovery/edge-node.js';

export interface EdgeLivenessOptions {
  readonly agent: Agent;
  readonly health: PassiveHealth;
  readonly snapshot: () => EdgeSnapshot;
  /** How often every available edge is probed; 0 turns the periodic probe off. */
  readonly intervalMs: number;
  readonly probe: (edge: EdgeNode) => Promise<EjectionReason | undefined>;
}

/**
 * In steering mode viewers fetch from edges directly, so the balancer would only notice a dead
 * edge when it next fetches a master playlist there. Two cheap signals close that gap: a short
 * /healthz probe of each available edge over the kept-alive pool, and the pool itself — when an
 * edge drops a connection (a killed process does at once), the edge is probed immediately.
 */
export function watchEdgeLiveness(options: EdgeLivenessOptions): { stop(): void } {
  const inFlight = new Set<string>();
  const check = (edge: EdgeNode): void => {
    if (inFlight.has(edge.id) || !options.health.isAvailable(edge.id)) return;
    inFlight.add(edge.id);
    void options.probe(edge).then((failure) => {
      inFlight.delete(edge.id);
      if (failure && options.snapshot().byId.get(edge.id) === edge) options.health.eject(edge, failure);
    });
  };
  const onDisconnect = (origin: URL): void => {
    for (const edge of options.snapshot().edges) if (new URL(edge.url).origin === origin.origin) options.health.suspect(edge);
  };
  options.agent.on('disconnect', onDisconnect);
  const timer = options.intervalMs > 0 ? setInterval(() => options.snapshot().edges.forEach(check), options.intervalMs) : undefined;
  timer?.unref();
  return {
    stop() {
      clearInterval(timer);
      options.agent.off('disconnect', onDisconnect);
    },
  };
}
