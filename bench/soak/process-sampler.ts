// What each service of the soak's stack holds over time, read from its own /metrics (prom-client's
// default metrics): resident memory, V8 heap in use and reserved, memory outside the heap, open
// file descriptors, open connections and event-loop delay.
// A service with workers reports its workers' sum (delay: their average); the stack runs one
// process per service. A service restarted by a drill is a new series under its new pid.
import { parsePrometheusText, sumSamples } from '../../infra/prometheus/prometheus-text.js';
import type { ServiceRole, StackService } from '../../stack/local-stack.js';

export interface ProcessFigures {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** What V8 has reserved for its heap: it grows to a working size after start, and is part of RSS. */
  readonly heapTotalBytes: number;
  /** Memory of Buffers and other objects held outside the V8 heap (a Buffer leak shows here, not in heap used). */
  readonly externalBytes: number;
  /** V8's old generation in use (old and large-object spaces): what survives collections, where a leak of objects accumulates. */
  readonly oldGenerationBytes: number;
  /** Full (mark-compact) collections so far: a sample taken just after one shows the heap as it was right after a GC. */
  readonly majorGcs: number;
  readonly openFds: number;
  /** Connections open on the service's server (each holds an fd; clients open them, and drills move them between processes). */
  readonly openConnections: number;
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

/** Each service's own gauge of the connections open on its server. */
export const OPEN_CONNECTIONS_METRIC: Readonly<Record<ServiceRole, string>> = {
  origin: 'streamedge_origin_open_connections',
  shield: 'streamedge_edge_open_connections',
  edge: 'streamedge_edge_open_connections',
  balancer: 'streamedge_balancer_open_connections',
};

const SOURCES: Readonly<Record<Exclude<Figure, 'oldGenerationBytes' | 'majorGcs' | 'openConnections'>, readonly [metric: string, scale: number]>> = {
  rssBytes: ['process_resident_memory_bytes', 1],
  heapUsedBytes: ['nodejs_heap_size_used_bytes', 1],
  heapTotalBytes: ['nodejs_heap_size_total_bytes', 1],
  externalBytes: ['nodejs_external_memory_bytes', 1],
  openFds: ['process_open_fds', 1],
  eventLoopP99Ms: ['nodejs_eventloop_lag_p99_seconds', 1000],
};

/** V8's spaces (prom-client's label, without "_space") that hold the old generation. */
const OLD_GENERATION_SPACES = /^(old|large_object)$/;

/** The figures in one exposition of a service of `role`, or undefined when one is missing or not a finite number. */
export function processFigures(text: string, role: ServiceRole): ProcessFigures | undefined {
  const prefix = DEFAULT_METRICS_PREFIX[role];
  const samples = parsePrometheusText(text);
  const values = new Map(samples.filter((sample) => Object.keys(sample.labels).length === 0).map((sample) => [sample.name, sample.value]));
  const figures: Partial<Record<Figure, number>> = {};
  for (const [figure, [metric, scale]] of Object.entries(SOURCES) as [Figure, readonly [string, number]][]) {
    const value = values.get(`${prefix}${metric}`);
    if (value === undefined || !Number.isFinite(value)) return undefined;
    figures[figure] = value * scale;
  }
  const spaces = samples.filter((sample) => sample.name === `${prefix}nodejs_heap_space_size_used_bytes`);
  if (!spaces.some((sample) => OLD_GENERATION_SPACES.test(sample.labels.space ?? ''))) return undefined;
  const connections = values.get(OPEN_CONNECTIONS_METRIC[role]);
  if (connections === undefined || !Number.isFinite(connections)) return undefined;
  figures.openConnections = connections;
  figures.oldGenerationBytes = sumSamples(spaces, `${prefix}nodejs_heap_space_size_used_bytes`, { space: OLD_GENERATION_SPACES });
  // prom-client writes a GC kind's line only once one happened: none yet is 0.
  figures.majorGcs = sumSamples(samples, `${prefix}nodejs_gc_duration_seconds_count`, { kind: 'major' });
  return Number.isFinite(figures.oldGenerationBytes) && Number.isFinite(figures.majorGcs) ? (figures as ProcessFigures) : undefined;
}

const SCRAPE_TIMEOUT_MS = 2000;

async function scrape(service: StackService): Promise<ProcessFigures | undefined> {
  try {
    const response = await fetch(`${service.url}/metrics`, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
    if (!response.ok) return undefined;
    return processFigures(await response.text(), service.role);
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
