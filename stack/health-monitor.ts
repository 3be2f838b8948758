import type { LocalStack, StackService } from './local-stack.js';

/** One service's health as an operator reads it: process state, /healthz, and Consul's verdict. */
export interface ServiceHealth {
  readonly id: string;
  readonly state: 'healthy' | 'unhealthy' | 'down';
  readonly detail: string;
  /** Aggregated Consul check status for registered services (origins, edges). */
  readonly consul?: 'passing' | 'warning' | 'critical' | 'maintenance' | 'not registered' | 'unreachable';
}

interface ConsulHealthEntry {
  readonly Service?: { readonly ID?: string };
  readonly Checks?: readonly { readonly CheckID?: string; readonly Status?: string }[];
}

type ConsulVerdict = NonNullable<ServiceHealth['consul']>;

/** Worst check wins; a maintenance check is named as such, since it is deliberate, not a failure. */
export function consulVerdict(checks: ConsulHealthEntry['Checks']): ConsulVerdict {
  const list = checks ?? [];
  if (list.some((check) => check.CheckID?.startsWith('_service_maintenance') || check.CheckID === '_node_maintenance')) return 'maintenance';
  if (list.some((check) => check.Status === 'critical')) return 'critical';
  if (list.some((check) => check.Status === 'warning')) return 'warning';
  return 'passing';
}

async function consulVerdicts(consulUrl: string, service: string): Promise<Map<string, ConsulVerdict> | undefined> {
  try {
    const response = await fetch(`${consulUrl}/v1/health/service/${service}`, { signal: AbortSignal.timeout(1500) });
    if (!response.ok) return undefined;
    const entries = (await response.json()) as ConsulHealthEntry[];
    return new Map(entries.flatMap((entry) => (entry.Service?.ID ? [[entry.Service.ID, consulVerdict(entry.Checks)] as const] : [])));
  } catch {
    return undefined;
  }
}

async function probe(service: StackService): Promise<Pick<ServiceHealth, 'state' | 'detail'>> {
  const child = service.process.child;
  if (child.exitCode !== null || child.signalCode !== null) {
    return { state: 'down', detail: `exited (${child.exitCode ?? child.signalCode})` };
  }
  try {
    const response = await fetch(`${service.url}/healthz`, { signal: AbortSignal.timeout(1500) });
    await response.body?.cancel();
    return response.ok ? { state: 'healthy', detail: '/healthz 200' } : { state: 'unhealthy', detail: `/healthz ${response.status}` };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    return { state: 'unhealthy', detail: `/healthz ${cause}` };
  }
}

async function consulAgentHealth(consulUrl: string): Promise<ServiceHealth> {
  try {
    const response = await fetch(`${consulUrl}/v1/status/leader`, { signal: AbortSignal.timeout(1500) });
    const leader = response.ok ? ((await response.json()) as string) : '';
    return leader ? { id: 'consul', state: 'healthy', detail: `leader ${leader}` } : { id: 'consul', state: 'unhealthy', detail: 'no leader' };
  } catch {
    return { id: 'consul', state: 'down', detail: 'HTTP API unreachable' };
  }
}

/** A snapshot of every service in the stack, Consul first. */
export async function checkStackHealth(stack: Pick<LocalStack, 'consulUrl' | 'services'>): Promise<ServiceHealth[]> {
  const [agent, origins, edges, shields, ...probes] = await Promise.all([
    consulAgentHealth(stack.consulUrl),
    consulVerdicts(stack.consulUrl, 'streamedge-origin'),
    consulVerdicts(stack.consulUrl, 'streamedge-edge'),
    consulVerdicts(stack.consulUrl, 'streamedge-shield'),
    ...stack.services.map(probe),
  ]);
  return [
    agent,
    ...stack.services.map((service, i): ServiceHealth => {
      const health = { id: service.id, ...probes[i]! };
      if (service.role === 'balancer') return health;
      const verdicts = service.role === 'origin' ? origins : service.role === 'shield' ? shields : edges;
      return { ...health, consul: verdicts ? (verdicts.get(service.id) ?? 'not registered') : 'unreachable' };
    }),
  ];
}

export function formatHealthLine(health: ServiceHealth, width: number, at = new Date()): string {
  const time = at.toISOString().slice(11, 19);
  const consul = health.consul ? `  consul: ${health.consul}` : '';
  return `${time}  ${health.id.padEnd(width)}  ${health.state.padEnd(9)}  ${health.detail}${consul}`;
}

export interface HealthMonitor {
  stop(): void;
}

/**
 * Polls the stack and reports a line per service whenever its health changes (every service once
 * at the start), so the terminal shows a history of what failed and recovered, not a wall of
 * identical lines.
 */
export function monitorStackHealth(stack: Pick<LocalStack, 'consulUrl' | 'services'>, intervalMs: number, report: (line: string) => void): HealthMonitor {
  if (!Number.isFinite(intervalMs) || intervalMs < 100) throw new TypeError(`health monitor: intervalMs must be ≥ 100, got ${intervalMs}`);
  const width = Math.max('consul'.length, ...stack.services.map((service) => service.id.length));
  const last = new Map<string, string>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const poll = async (): Promise<void> => {
    const snapshot = await checkStackHealth(stack);
    if (stopped) return;
    for (const health of snapshot) {
      const key = `${health.state} ${health.detail} ${health.consul ?? ''}`;
      if (last.get(health.id) !== key) report(formatHealthLine(health, width));
      last.set(health.id, key);
    }
  };
  const schedule = (): void => {
    if (!stopped) timer = setTimeout(() => void poll().finally(schedule), intervalMs);
  };
  void poll().finally(schedule);
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
