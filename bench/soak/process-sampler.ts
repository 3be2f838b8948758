// What each service of the soak's stack holds over time, read from its own /metrics (prom-client's
// default metrics): resident memory, V8 heap in use, open file descriptors and event-loop delay.
// A service with workers reports its workers' sum (delay: their average); the stack runs one
// process per service. A service restarted by a drill is a new series under its new pid.
import { parsePrometheusText } from '../../infra/prometheus/prometheus-text.js';
import type { ServiceRole, StackService } from '../../stack/local-stack.js';

export interface ProcessFigures {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly openFds: number;
  /** p99 since the previous scrape: prom-client resets its event-loop histogram on every collect. */
  readonly eventLoopP99Ms: number;
}

export type Figure = keyof ProcessFigures;

export interface ProcessSample {
  /** Milliseconds after the soak's viewers started. */
  readonly atMs: number;
  readonly figures: ProcessFigures;
}

export interface ProcessSeries {
  /** e.g. "edge-1 pid 4242" */
  readonly label: string;
  readonly service: string;
  readonly role: ServiceRole;
  readonly pid: number;
  readonly samples: readonly ProcessSample[];
}

/** The prefix of each service's default metrics (the origin's have none). */
export const DEFAULT_METRICS_PREFIX: Readonly<Record<ServiceRole, string>> = {
  origin: '',
  shield: 'streamedge_edge_',
  edge: 'streamedge_edge_',
  balancer: 'streamedge_balancer_',
};

const SOURCES: Readonly<Record<Figure, readonly [metric: string, scale: number]>> = {
  rssBytes: ['process_resident_memory_bytes', 1],
  heapUsedBytes: ['nodejs_heap_size_used_bytes', 1],
  openFds: ['process_open_fds', 1],
  eventLoopP99Ms: ['nodejs_eventloop_lag_p99_seconds', 1000],
};

/** The figures in one exposition, or undefined when one is missing or not a finite number. */
export function processFigures(text: string, prefix: string): ProcessFigures | undefined {
  const values = new Map(parsePrometheusText(text).map((sample) => [sample.name, sample.value]));
  const figures: Partial<Record<Figure, number>> = {};
  for (const [figure, [metric, scale]] of Object.entries(SOURCES) as [Figure, readonly [string, number]][]) {
    const value = values.get(`${prefix}${metric}`);
    if (value === undefined || !Number.isFinite(value)) return undefined;
    figures[figure] = value * scale;
  }
  return figures as ProcessFigures;
}

const SCRAPE_TIMEOUT_MS = 2000;

async function scrape(service: StackService): Promise<ProcessFigures | undefined> {
  try {
    const response = await fetch(`${service.url}/metrics`, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
    if (!response.ok) return undefined;
    return processFigures(await response.text(), DEFAULT_METRICS_PREFIX[service.role]);
  } catch {
    return undefined; // killed or restarting: a gap in its series
  }
}

/** Scrapes every service each `intervalMs` until stopped; a scrape still running skips the next tick. */
export function startProcessSampler(services: readonly StackService[], intervalMs: number, startedAt: number): { stop(): Promise<ProcessSeries[]> } {
  const series = new Map<string, { label: string; service: string; role: ServiceRole; pid: number; samples: ProcessSample[] }>();
  let running: Promise<void> | undefined;
  const sampleAll = async (): Promise<void> => {
    await Promise.all(
      services.map(async (service) => {
        // The pid before the scrape: a restart between the two shows as a gap, never as a mix.
        const pid = service.process.child.pid!;
        const figures = await scrape(service);
        if (!figures || service.process.child.pid !== pid) return;
        const label = `${service.id} pid ${pid}`;
        let entry = series.get(label);
        if (!entry) series.set(label, (entry = { label, service: service.id, role: service.role, pid, samples: [] }));
        entry.samples.push({ atMs: Date.now() - startedAt, figures });
      }),
    );
  };
  const tick = (): void => {
    if (running) return;
    running = sampleAll().finally(() => (running = undefined));
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  let stopped: Promise<ProcessSeries[]> | undefined;
  return {
    stop: () =>
      (stopped ??= (async () => {
        clearInterval(timer);
        await running;
        await sampleAll();
        return [...series.values()];
      })()),
  };
}
