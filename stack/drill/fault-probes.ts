// How a drill sees the system notice a fault and get over it, each read from the system's own
// reports: the balancer's /status (edge health, Consul reachability), Consul's health API (origin
// membership) and the edges' and shields' /metrics (hedges, integrity failures, ejections).
import type { DrillTarget, TargetService } from './drill-target.js';
import { relayIdFor } from './origin-relay-fault.js';
import { scrapeSums, type SampleFilter } from './metrics-scrape.js';

export interface FaultProbe {
  /** What "detected" means, for the report. */
  readonly detects: string;
  /** Called once just before the fault is injected. */
  baseline(): Promise<void>;
  detected(): Promise<boolean>;
  recovered(): Promise<boolean>;
}

interface BalancerStatus {
  readonly discovery?: { readonly reachable?: boolean };
  readonly edges?: readonly { readonly id: string; readonly health?: string }[];
}

async function balancerStatus(target: DrillTarget): Promise<BalancerStatus> {
  const response = await fetch(`${target.balancerUrl}/status`, { signal: AbortSignal.timeout(2000) });
  if (!response.ok) throw new Error(`balancer /status answered ${response.status}`);
  return (await response.json()) as BalancerStatus;
}

async function passing(target: DrillTarget, service: string): Promise<Set<string>> {
  const response = await target.consul(`/v1/health/service/${service}?passing=true`);
  if (!response.ok) throw new Error(`Consul answered ${response.status}`);
  const entries = (await response.json()) as { Service?: { ID?: string } }[];
  return new Set(entries.flatMap((entry) => (entry.Service?.ID ? [entry.Service.ID] : [])));
}

/** Edges by id: healthy to the balancer (/status) and passing in Consul. */
async function healthyEdges(target: DrillTarget): Promise<Set<string>> {
  const [status, inConsul] = await Promise.all([balancerStatus(target), passing(target, 'streamedge-edge')]);
  return new Set((status.edges ?? []).filter((edge) => edge.health === 'healthy' && inConsul.has(edge.id)).map((edge) => edge.id));
}

/** Edges: detected once any of them is no longer healthy to the balancer or passing in Consul; recovered when all are again. */
export function edgesProbe(target: DrillTarget, edgeIds: readonly string[], where?: string): FaultProbe {
  return {
    detects: `balancer /status or Consul stops listing ${where ? `an edge of ${where} (${edgeIds.join(', ')})` : edgeIds.join(' or ')} as healthy`,
    baseline: async () => {},
    detected: async () => {
      const now = await healthyEdges(target);
      return edgeIds.some((id) => !now.has(id));
    },
    recovered: async () => {
      const now = await healthyEdges(target);
      return edgeIds.every((id) => now.has(id));
    },
  };
}

/** Who the scraped services are, for the report: shields (where a stack has them) meet the origins before any edge. */
const whoOf = (edges: readonly TargetService[]): string => (edges.some((edge) => edge.role === 'shield') ? 'an edge or shield' : 'an edge');

/** A counter on every edge (or shield) given grew since the baseline. */
function edgeCounterGrew(target: DrillTarget, edges: readonly TargetService[], filter: SampleFilter): { baseline(): Promise<void>; grew(): Promise<boolean> } {
  let before = 0;
  const total = async (): Promise<number> => [...(await scrapeSums(edges.map((edge) => edge.url), filter)).values()].reduce<number>((sum, value) => sum + (value ?? 0), 0);
  return {
    baseline: async () => void (before = await total()),
    grew: async () => (await total()) > before,
  };
}

/** Replicas down: Consul stops passing one, or an edge (or shield, when given) ejects one; recovered when all pass again. */
export function originDownProbe(target: DrillTarget, originIds: readonly string[], edges: readonly TargetService[]): FaultProbe {
  const ejected = edgeCounterGrew(target, edges, { name: 'streamedge_edge_origin_ejections_total', keep: (labels) => originIds.includes(labels.replica ?? '') });
  const allPassing = async (): Promise<boolean> => {
    const now = await passing(target, 'streamedge-origin');
    return originIds.every((id) => now.has(id));
  };
  return {
    detects: `Consul stops passing ${originIds.join(' or ')} or ${whoOf(edges)} ejects it`,
    baseline: ejected.baseline,
    detected: async () => !(await allPassing()) || (await ejected.grew()),
    recovered: allPassing,
  };
}

/** Replicas behind a fault relay: detected when the edges (and shields, when given) react (hedge, integrity check). */
export function relayedOriginProbe(target: DrillTarget, originIds: readonly string[], edges: readonly TargetService[], reaction: 'hedge' | 'integrity'): FaultProbe {
  const counter = edgeCounterGrew(target, edges, reaction === 'hedge' ? { name: 'streamedge_edge_origin_hedges_total' } : { name: 'streamedge_edge_integrity_failures_total' });
  const who = whoOf(edges);
  return {
    detects: reaction === 'hedge' ? `${who} hedges an origin request to another replica` : `${who} rejects an origin body (ETag or length mismatch)`,
    baseline: counter.baseline,
    detected: counter.grew,
    recovered: async () => {
      const now = await passing(target, 'streamedge-origin');
      return originIds.every((id) => now.has(id) && !now.has(relayIdFor(id)));
    },
  };
}

/**
 * Consul unreachable: the balancer says so in /status, and says so again when it is back; edges
 * killed while it hung must also be healthy again (registered anew, seen by the balancer).
 */
export function consulProbe(target: DrillTarget, edgeIds: readonly string[] = []): FaultProbe {
  const reachable = async (): Promise<boolean | undefined> => (await balancerStatus(target)).discovery?.reachable;
  const edges = edgesProbe(target, edgeIds);
  return {
    detects: 'balancer /status reports Consul unreachable',
    baseline: async () => {},
    detected: async () => (await reachable()) === false,
    recovered: async () => (await reachable()) === true && (edgeIds.length === 0 || (await edges.recovered())),
  };
}
