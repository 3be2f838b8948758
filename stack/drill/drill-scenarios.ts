// The drills an SRE can run, each a fault with the thresholds it is judged by. A scenario chooses
// its victim from what the viewers are doing (the edge most of them watch from) unless told.
import { consulProbe, edgeProbe, originDownProbe, relayedOriginProbe, type FaultProbe } from './fault-probes.js';
import { DrillSetupError, type DrillFault } from './drill-fault.js';
import type { DrillTarget, TargetService } from './drill-target.js';
import type { DrillThresholds } from './drill-verdict.js';
import { createOriginRelayFault } from './origin-relay-fault.js';
import { createSignalFault, type FaultSignal } from './signal-fault.js';
import type { ViewerStats } from './synthetic-viewer.js';

export interface ScenarioContext {
  readonly target: DrillTarget;
  readonly edges: readonly TargetService[];
  readonly origins: readonly TargetService[];
  /** Service ids given with --target; empty: the scenario chooses. */
  readonly chosen: readonly string[];
  /** The viewers as they are just before the fault (empty for herd scenarios). */
  readonly viewers: readonly ViewerStats[];
  readonly originDelayMs: number;
  readonly relayHost: string;
  readonly restartTimeoutMs: number;
}

export interface PreparedFault {
  /** Undefined for load scenarios: the viewers themselves are the event. */
  readonly fault: DrillFault | undefined;
  readonly probe: FaultProbe | undefined;
}

export interface DrillScenario {
  readonly name: string;
  readonly summary: string;
  /** Viewers join all at once when the event starts instead of watching before it. */
  readonly herd: boolean;
  /** Its fault is a signal to a process on this machine, so the target needs a state file. */
  readonly needsLocalProcesses: boolean;
  readonly defaults: { readonly viewers: number; readonly warmupMs: number; readonly faultMs: number; readonly settleMs: number; readonly media: string };
  readonly thresholds: DrillThresholds;
  prepare(context: ScenarioContext): Promise<PreparedFault>;
}

const LIVE = 'live/channel-1';
const PLAYBACK = { maxStallP99Ms: 1000, maxStallMs: 2000, maxLost: 0, maxCorrupt: 0 } as const;

function pick(services: readonly TargetService[], chosen: readonly string[], fallback: () => TargetService | undefined, role: string): TargetService[] {
  if (chosen.length > 0) {
    return chosen.map((id) => {
      const found = services.find((service) => service.id === id);
      if (!found) throw new DrillSetupError(`--target ${id}: Consul lists no ${role} "${id}" (have ${services.map((service) => service.id).join(', ') || 'none'})`);
      return found;
    });
  }
  const one = fallback();
  if (!one) throw new DrillSetupError(`Consul lists no ${role} to drill`);
  return [one];
}

/** The edge most viewers are on now (their current pathway), else the first edge. */
function busiestEdge(context: ScenarioContext): TargetService | undefined {
  const counts = new Map<string, number>();
  for (const viewer of context.viewers) if (viewer.pathway) counts.set(viewer.pathway, (counts.get(viewer.pathway) ?? 0) + 1);
  const [top] = [...counts].sort((a, b) => b[1] - a[1]);
  return context.edges.find((edge) => edge.id === top?.[0]) ?? [...context.edges].sort((a, b) => a.id.localeCompare(b.id))[0];
}

const firstOrigin = (context: ScenarioContext): TargetService | undefined => [...context.origins].sort((a, b) => a.id.localeCompare(b.id))[0];

function one(services: TargetService[], scenario: string): TargetService {
  if (services.length !== 1) throw new DrillSetupError(`${scenario} takes one --target`);
  return services[0]!;
}

async function signalEdge(context: ScenarioContext, signal: FaultSignal, scenario: string): Promise<PreparedFault> {
  const edge = one(pick(context.edges, context.chosen, () => busiestEdge(context), 'edge'), scenario);
  const fault = await createSignalFault({ target: context.target, id: edge.id, signal, restartTimeoutMs: context.restartTimeoutMs });
  return { fault, probe: edgeProbe(context.target, edge.id) };
}

export const DRILL_SCENARIOS: readonly DrillScenario[] = [
  {
    name: 'edge-kill',
    needsLocalProcesses: true,
    summary: 'SIGKILL the edge most viewers watch from; its supervisor restarts it',
    herd: false,
    defaults: { viewers: 20, warmupMs: 6000, faultMs: 6000, settleMs: 6000, media: LIVE },
    thresholds: { ...PLAYBACK, maxDetectMs: 5000, maxRecoverMs: 15_000 },
    prepare: (context) => signalEdge(context, 'SIGKILL', 'edge-kill'),
  },
  {
    name: 'edge-drain',
    needsLocalProcesses: true,
    summary: 'SIGTERM that edge: it drains (Consul maintenance, in-flight responses finish) and exits; restarted',
    herd: false,
    defaults: { viewers: 20, warmupMs: 6000, faultMs: 6000, settleMs: 6000, media: LIVE },
    thresholds: { ...PLAYBACK, maxStallMs: 1000, maxFailed: 0, maxDetectMs: 5000, maxRecoverMs: 15_000 },
    prepare: (context) => signalEdge(context, 'SIGTERM', 'edge-drain'),
  },
  {
    name: 'origin-down',
    needsLocalProcesses: true,
    summary: 'SIGKILL an origin replica; the edges fail over to the others; restarted',
    herd: false,
    defaults: { viewers: 20, warmupMs: 6000, faultMs: 8000, settleMs: 6000, media: LIVE },
    thresholds: { ...PLAYBACK, maxDetectMs: 10_000, maxRecoverMs: 15_000 },
    prepare: async (context) => {
      const origin = one(pick(context.origins, context.chosen, () => firstOrigin(context), 'origin'), 'origin-down');
      const fault = await createSignalFault({ target: context.target, id: origin.id, signal: 'SIGKILL', restartTimeoutMs: context.restartTimeoutMs });
      return { fault, probe: originDownProbe(context.target, origin.id, context.edges) };
    },
  },
  {
    name: 'origin-slow',
    needsLocalProcesses: false,
    summary: 'a replica answers --origin-delay late (fault relay swapped in through Consul); the edges hedge',
    herd: false,
    defaults: { viewers: 20, warmupMs: 6000, faultMs: 10_000, settleMs: 4000, media: LIVE },
    thresholds: { ...PLAYBACK, maxDetectMs: 10_000, maxRecoverMs: 10_000 },
    prepare: async (context) => {
      const origins = pick(context.origins, context.chosen, () => firstOrigin(context), 'origin');
      const fault = createOriginRelayFault({ target: context.target, origins, mode: { kind: 'slow', delayMs: context.originDelayMs }, relayHost: context.relayHost, registerTimeoutMs: 15_000 });
      return { fault, probe: relayedOriginProbe(context.target, origins.map((o) => o.id), context.edges, 'hedge') };
    },
  },
  {
    name: 'origin-corrupt',
    needsLocalProcesses: false,
    summary: 'a replica serves different bytes under the same ETag (fault relay); the edges must not pass them on',
    herd: false,
    defaults: { viewers: 20, warmupMs: 6000, faultMs: 10_000, settleMs: 4000, media: LIVE },
    thresholds: { ...PLAYBACK, maxDetectMs: 10_000, maxRecoverMs: 10_000 },
    prepare: async (context) => {
      const origins = pick(context.origins, context.chosen, () => firstOrigin(context), 'origin');
      const fault = createOriginRelayFault({ target: context.target, origins, mode: { kind: 'corrupt' }, relayHost: context.relayHost, registerTimeoutMs: 15_000 });
      return { fault, probe: relayedOriginProbe(context.target, origins.map((o) => o.id), context.edges, 'integrity') };
    },
  },
  {
    name: 'consul-down',
    needsLocalProcesses: true,
    summary: 'SIGSTOP the Consul agent (it hangs), SIGCONT after the fault time; the balancer keeps its last snapshot',
    herd: false,
    defaults: { viewers: 20, warmupMs: 6000, faultMs: 15_000, settleMs: 5000, media: LIVE },
    // Recovery is slow by design: the balancer's Consul watch backs off while the agent hangs (13 s measured).
    thresholds: { ...PLAYBACK, maxStallMs: 1000, maxFailed: 0, maxRecoverMs: 20_000 },
    prepare: async (context) => {
      if (context.chosen.length > 0) throw new DrillSetupError('consul-down takes no --target: it stops the stack\'s Consul agent');
      const fault = await createSignalFault({ target: context.target, id: 'consul', signal: 'SIGSTOP', restartTimeoutMs: context.restartTimeoutMs });
      return { fault, probe: consulProbe(context.target) };
    },
  },
  {
    name: 'cold-herd',
    needsLocalProcesses: false,
    summary: 'every viewer joins at the same instant at the live edge, whose newest segments no cache holds yet',
    herd: true,
    defaults: { viewers: 50, warmupMs: 0, faultMs: 10_000, settleMs: 0, media: LIVE },
    thresholds: { maxStartupP99Ms: 3000, maxStallP99Ms: 1000, maxLost: 0, maxCorrupt: 0, maxOriginRatio: 0.1 },
    prepare: async () => ({ fault: undefined, probe: undefined }),
  },
  {
    name: 'live-storm',
    needsLocalProcesses: false,
    summary: 'a crowd joins the live channel at once and keeps reloading its playlist every target duration',
    herd: true,
    defaults: { viewers: 100, warmupMs: 0, faultMs: 15_000, settleMs: 0, media: LIVE },
    thresholds: { maxStallP99Ms: 1000, maxStallMs: 2000, maxLost: 0, maxCorrupt: 0, maxOriginRatio: 0.1 },
    prepare: async () => ({ fault: undefined, probe: undefined }),
  },
];

export function findScenario(name: string): DrillScenario | undefined {
  return DRILL_SCENARIOS.find((scenario) => scenario.name === name);
}
