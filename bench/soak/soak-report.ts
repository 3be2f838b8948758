// A soak's figures as a benchmark report: a row per process and figure (start, end, growth, pass),
// the viewers' requests inside and outside fault windows, each drill, the targets, and charts of
// every figure over time with the fault windows shaded.
import type { BenchReport, BenchTable, TargetCheck } from '../report.js';
import type { LineChart, XBand, XMarker } from '../svg-charts.js';
import { duringFault, tallyRequests, ttfbP99, ttfbP99PerBucket, type FaultWindow, type SoakRequest } from './fault-windows.js';
import { afterFullGcs, GROWTH_LIMIT, judgeGrowth, type GrowthVerdict } from './growth-check.js';
import type { ProcessFigures, ProcessSeries } from './process-sampler.js';
import { GROWTH_INTERVALS, type SoakPlan } from './soak-plan.js';

export interface SoakDrill {
  readonly scenario: string;
  readonly plannedAtMs: number;
  /** ran: it completed with a verdict; skipped: it could not start within its slot; failed: it threw (fault window taken as the whole time it ran). */
  readonly outcome: 'ran' | 'skipped' | 'failed';
  /** Why it was skipped or failed. */
  readonly reason?: string;
  readonly window?: FaultWindow;
  readonly pass?: boolean;
  readonly failedChecks?: readonly string[];
  readonly detectMs?: number;
  readonly recoverMs?: number;
}

export interface SoakResult {
  readonly plan: SoakPlan;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly sampleIntervalMs: number;
  readonly processes: readonly ProcessSeries[];
  readonly requests: readonly SoakRequest[];
  readonly drills: readonly SoakDrill[];
}

const MB = 1024 * 1024;

interface FigureView {
  readonly name: string;
  /** The figure in a sample, in `unit`. */
  readonly read: (figures: ProcessFigures) => number;
  readonly unit: string;
  /** Judged against the growth limit (event-loop delay is reported only). */
  readonly judged: boolean;
}

const megabytes = (figure: 'rssBytes' | 'heapUsedBytes' | 'oldGenerationBytes' | 'heapTotalBytes' | 'externalBytes') => (figures: ProcessFigures): number => figures[figure] / MB;

/**
 * Open fds are judged without the connections open on the process's server: viewers open those,
 * they are bounded elsewhere (limits, timeouts), and a drill moves them from one process to
 * another; a leak is fds that grow beyond them. The raw count and the connections are reported.
 */
export const fdsBeyondConnections = (figures: ProcessFigures): number => figures.openFds - figures.openConnections;

const FIGURES: readonly FigureView[] = [
  { name: 'RSS', unit: 'MB', read: megabytes('rssBytes'), judged: true },
  { name: 'V8 heap used', unit: 'MB', read: megabytes('heapUsedBytes'), judged: true },
  { name: 'V8 old generation', unit: 'MB', read: megabytes('oldGenerationBytes'), judged: false },
  { name: 'V8 heap total', unit: 'MB', read: megabytes('heapTotalBytes'), judged: false },
  { name: 'external memory', unit: 'MB', read: megabytes('externalBytes'), judged: false },
  { name: 'open fds', unit: 'fds', read: (figures) => figures.openFds, judged: false },
  { name: 'open connections', unit: 'connections', read: (figures) => figures.openConnections, judged: false },
  { name: 'open fds beyond connections', unit: 'fds', read: fdsBeyondConnections, judged: true },
  { name: 'event-loop delay p99', unit: 'ms', read: (figures) => figures.eventLoopP99Ms, judged: false },
];

const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;
const seconds = (ms: number): number => round(ms / 1000);
const percent = (growth: number): number => round(growth * 100);
const ttfbCell = (requests: readonly SoakRequest[]): number | string => {
  const p99 = ttfbP99(requests);
  return p99 === undefined ? '' : round(p99);
};

function verdictFor(series: ProcessSeries, view: FigureView, plan: SoakPlan): GrowthVerdict {
  return judgeGrowth(series.samples.map((sample) => ({ atMs: sample.atMs, value: view.read(sample.figures) })), plan);
}

export function growthTable(result: SoakResult): BenchTable {
  const rows = result.processes.flatMap((series) =>
    FIGURES.map((view) => {
      const verdict = verdictFor(series, view, result.plan);
      if (!verdict.judged) return [series.label, `${view.name} ${view.unit}`, '', '', '', `not judged: ${verdict.reason}`];
      return [series.label, `${view.name} ${view.unit}`, round(verdict.start, 2), round(verdict.end, 2), `${verdict.growth >= 0 ? '+' : ''}${percent(verdict.growth)} %`, view.judged ? (verdict.pass ? 'pass' : 'FAIL') : 'reported'];
    }),
  );
  return {
    title: `Per process: median of the first interval after its warm-up (start) and of its last interval (end); growth must stay below ${GROWTH_LIMIT * 100} %`,
    columns: ['process', 'figure', 'start', 'end', 'growth', 'result'],
    rows,
  };
}

function windowsOf(result: SoakResult): FaultWindow[] {
  return result.drills.flatMap((drill) => (drill.window ? [drill.window] : []));
}

/**
 * The old generation right after full collections, the first after the warm-up against the last:
 * what the process kept, without the garbage a heap sample also counts. Reported, to tell a heap
 * that keeps growing from one that V8 collects at its own pace; the growth targets stay the medians.
 */
export function heapAfterGcTable(result: SoakResult): BenchTable {
  const rows = result.processes.map((series) => {
    const afterGc = afterFullGcs(series.samples.map((sample) => ({ atMs: sample.atMs, gcs: sample.figures.majorGcs, value: sample.figures.oldGenerationBytes / MB })));
    const judged = afterGc.filter((point) => point.atMs >= series.samples[0]!.atMs + result.plan.warmupMs);
    const first = judged[0];
    const last = judged.at(-1);
    if (!first || !last || first === last) return [series.label, judged.length, first ? round(first.value, 2) : '', '', '', 'fewer than 2 full GCs after its warm-up'];
    const growth = last.value / first.value - 1;
    return [series.label, judged.length, round(first.value, 2), round(last.value, 2), `${growth >= 0 ? '+' : ''}${percent(growth)} %`, `${seconds(first.atMs)} s → ${seconds(last.atMs)} s`];
  });
  return {
    title: 'V8 old generation (MB) right after full GCs, after each process\'s warm-up: the first against the last (reported, not judged)',
    columns: ['process', 'full GCs', 'first MB', 'last MB', 'change', 'at'],
    rows,
  };
}

export function requestTable(result: SoakResult): BenchTable {
  const windows = windowsOf(result);
  const { outside, during } = tallyRequests(result.requests, windows);
  const p99 = (inFault: boolean): number | string => ttfbCell(result.requests.filter((request) => duringFault(windows, request.endedAtMs) === inFault));
  return {
    title: 'Soak viewers\' requests (playlists and segments), by whether they ended inside a fault window',
    columns: ['when', 'requests', 'failed', 'p99 time to headers ms'],
    rows: [
      ['outside fault windows', outside.requests, outside.failed, p99(false)],
      ['during fault windows', during.requests, during.failed, p99(true)],
      ['all', outside.requests + during.requests, outside.failed + during.failed, ttfbCell(result.requests)],
    ],
  };
}

/** At most this many rows of failures: one per distinct what/where/why, the most frequent first. */
const MAX_FAILURE_ROWS = 40;

/** Failed requests grouped by fault window or not, kind, service and reason: when they came, how many, and an example path. */
export function failureTable(result: SoakResult): BenchTable {
  const windows = windowsOf(result);
  const groups = new Map<string, { cells: [string, string, string, string]; count: number; firstMs: number; lastMs: number; path: string }>();
  for (const request of result.requests) {
    if (request.ok) continue;
    const facts = request.failure ?? { kind: '?', service: '?', path: '', reason: 'not told' };
    const cells: [string, string, string, string] = [duringFault(windows, request.endedAtMs) ? 'during a fault' : 'outside faults', facts.kind, facts.service, facts.reason];
    const key = cells.join('\n');
    const group = groups.get(key);
    if (group) {
      group.count++;
      group.firstMs = Math.min(group.firstMs, request.endedAtMs);
      group.lastMs = Math.max(group.lastMs, request.endedAtMs);
    } else groups.set(key, { cells, count: 1, firstMs: request.endedAtMs, lastMs: request.endedAtMs, path: facts.path });
  }
  const sorted = [...groups.values()].sort((a, b) => a.cells[0].localeCompare(b.cells[0]) || b.count - a.count || a.firstMs - b.firstMs);
  return {
    title: `Failed soak viewer requests by what, where and why (request ends; ${sorted.length > MAX_FAILURE_ROWS ? `the ${MAX_FAILURE_ROWS} largest of ${sorted.length} groups` : 'every group'})`,
    columns: ['when', 'request', 'service', 'reason', 'failed', 'first s', 'last s', 'example path'],
    rows: sorted.slice(0, MAX_FAILURE_ROWS).map((group) => [...group.cells, group.count, seconds(group.firstMs), seconds(group.lastMs), group.path]),
  };
}

export function intervalTable(result: SoakResult): BenchTable {
  const { plan } = result;
  const windows = windowsOf(result);
  const bounds: [string, number, number][] = [
    ['warm-up', 0, plan.warmupMs],
    ...Array.from({ length: GROWTH_INTERVALS }, (_, index): [string, number, number] => [
      `interval ${index + 1}`,
      plan.warmupMs + index * plan.intervalMs,
      plan.warmupMs + (index + 1) * plan.intervalMs,
    ]),
  ];
  return {
    title: 'Soak viewers\' requests per interval (growth compares interval 1 with the last)',
    columns: ['interval', 'from s', 'to s', 'requests', 'failed outside faults', 'failed during faults', 'p99 time to headers ms', 'faults'],
    rows: bounds.map(([name, from, to], index) => {
      // The last interval takes what ended as the viewers were stopped, a moment after the end.
      const until = index === bounds.length - 1 ? Infinity : to;
      const inside = result.requests.filter((request) => request.endedAtMs >= from && request.endedAtMs < until);
      const { outside, during } = tallyRequests(inside, windows);
      const faults = windows.filter((window) => window.fromMs < to && window.toMs >= from).map((window) => window.label);
      return [name, seconds(from), seconds(to), inside.length, outside.failed, during.failed, ttfbCell(inside), faults.join(', ')];
    }),
  };
}

export function drillTable(result: SoakResult): BenchTable {
  return {
    title: 'Drills during the soak (each with its own viewers and verdict; the soak viewers watched on)',
    columns: ['drill', 'planned at s', 'fault window s', 'verdict', 'detect s', 'recover s', 'failed checks / reason'],
    rows: result.drills.map((drill) => [
      drill.scenario,
      seconds(drill.plannedAtMs),
      drill.window ? `${seconds(drill.window.fromMs)}–${seconds(drill.window.toMs)}` : '',
      drill.outcome === 'ran' ? (drill.pass ? 'pass' : 'FAIL') : drill.outcome,
      drill.detectMs === undefined ? '' : seconds(drill.detectMs),
      drill.recoverMs === undefined ? '' : seconds(drill.recoverMs),
      drill.outcome === 'ran' ? (drill.failedChecks ?? []).join(', ') : (drill.reason ?? ''),
    ]),
  };
}

export function soakTargets(result: SoakResult): TargetCheck[] {
  const targets: TargetCheck[] = [];
  for (const series of result.processes) {
    for (const view of FIGURES.filter((candidate) => candidate.judged)) {
      const verdict = verdictFor(series, view, result.plan);
      if (verdict.judged) targets.push({ name: `${series.label}: ${view.name} growth %`, measured: percent(verdict.growth), target: `< ${GROWTH_LIMIT * 100}`, met: verdict.pass });
    }
  }
  const failedOutside = tallyRequests(result.requests, windowsOf(result)).outside.failed;
  targets.push({ name: 'failed viewer requests outside fault windows', measured: failedOutside, target: '≤ 0', met: failedOutside === 0 });
  return targets;
}

/** Every figure over time, one line per process, with the fault windows shaded and the compared intervals marked. */
export function soakCharts(result: SoakResult): LineChart[] {
  const { plan } = result;
  const bands: XBand[] = windowsOf(result).map((window) => ({ from: window.fromMs / 1000, to: window.toMs / 1000, label: window.label }));
  const markers: XMarker[] = [
    { at: plan.warmupMs / 1000, label: 'warm-up ends' },
    { at: (plan.durationMs - plan.intervalMs) / 1000, label: 'last interval' },
  ];
  const frame = { xUnit: 'seconds since the viewers started', bands, markers };
  const perProcess = FIGURES.map(
    (view): LineChart => ({
      ...frame,
      title: `soak: ${view.name} per process`,
      yUnit: `${view.name} ${view.unit}`,
      series: result.processes.map((series) => ({ name: series.label, points: series.samples.map((sample) => [sample.atMs / 1000, view.read(sample.figures)] as const) })),
    }),
  );
  const ttfb = ttfbP99PerBucket(result.requests, result.sampleIntervalMs);
  return [
    ...perProcess,
    {
      ...frame,
      title: `soak: viewers' p99 time to headers per ${result.sampleIntervalMs / 1000} s`,
      yUnit: 'p99 time to headers ms',
      series: [{ name: 'soak viewers', points: ttfb.map((bucket) => [bucket.atMs / 1000, bucket.p99Ms] as const) }],
    },
  ].filter((chart) => chart.series.some((series) => series.points.length > 0));
}

export function soakReport(result: SoakResult, notes: readonly string[]): BenchReport {
  const unjudged = result.processes.flatMap((series) => {
    const verdict = verdictFor(series, FIGURES[0]!, result.plan);
    return verdict.judged ? [] : [`${series.label} not judged: ${verdict.reason}.`];
  });
  return {
    benchmark: 'soak',
    settings: { ...result.settings, warmupMs: result.plan.warmupMs, intervalMs: round(result.plan.intervalMs, 0), sampleIntervalMs: result.sampleIntervalMs },
    tables: [growthTable(result), heapAfterGcTable(result), requestTable(result), intervalTable(result), drillTable(result), failureTable(result)],
    targets: soakTargets(result),
    notes: [
      ...notes,
      ...(result.plan.dropped.length > 0 ? [`Drills left out, as they do not fit between the first and the last interval: ${result.plan.dropped.join(', ')}.`] : []),
      ...unjudged,
    ],
    timeSeries: soakCharts(result),
  };
}
