// Turns what a drill measured into a verdict: per-viewer stall percentiles, request counts, origin
// load, detection and recovery times, each checked against its threshold; printed as a table for
// people or JSON for machines. A drill passes only when every stated threshold holds.
import type { ViewerStats } from './synthetic-viewer.js';
import { alignColumns } from '../text-columns.js';

/** Limits a drill is judged by; an absent one is reported, not checked. */
export interface DrillThresholds {
  readonly maxStallP99Ms?: number;
  readonly maxStallMs?: number;
  readonly maxStartupP99Ms?: number;
  readonly maxFailed?: number;
  /** Failed segment loads (a player's failed fragment loads), a subset of the failed requests. */
  readonly maxFailedSegments?: number;
  readonly maxLost?: number;
  readonly maxCorrupt?: number;
  readonly maxDetectMs?: number;
  readonly maxRecoverMs?: number;
  /** Origin requests ÷ viewer requests: what the edges failed to absorb. */
  readonly maxOriginRatio?: number;
  /** Viewers still on a faulted edge when the fault was restored (region-cut: they should have moved). */
  readonly maxStayed?: number;
}

export interface DrillMeasurements {
  readonly scenario: string;
  readonly fault: string;
  readonly detects: string | undefined;
  readonly media: string;
  readonly viewers: readonly ViewerStats[];
  readonly durationMs: number;
  /** How long the fault was in place (inject → restored). */
  readonly faultHeldMs: number | undefined;
  /** Inject → the system reported the fault; undefined: it never did. */
  readonly detectMs: number | undefined;
  /** Restored → the system reported itself healthy again; undefined: not within the bound. */
  readonly recoverMs: number | undefined;
  /** Requests the origins answered during the drill (their /metrics, health checks left out). */
  readonly originRequests: number;
  /** Origin request attempts the edges made, and the shields where the stack has them (their /metrics). */
  readonly originAttempts: number;
  readonly originAttemptsBy: 'edges' | 'edges + shields';
  readonly edgeResponses: number;
  readonly edgeMisses: number;
  /** Viewers whose pathway was a faulted edge when the fault went in; undefined when the fault names no edges. */
  readonly onFaultAtInject?: number;
  /** Viewers whose pathway was a faulted edge just before the restore; undefined when the fault names no edges. */
  readonly stayedOnFault?: number;
}

export interface DrillCheck {
  readonly name: string;
  readonly value: number | undefined;
  readonly limit: number;
  readonly unit: string;
  readonly pass: boolean;
}

export interface DrillVerdict {
  readonly pass: boolean;
  readonly checks: readonly DrillCheck[];
  readonly stallMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly startupMs: { readonly p50: number | undefined; readonly p99: number | undefined };
  readonly totals: { readonly requests: number; readonly failed: number; readonly failedSegments: number; readonly retried: number; readonly lost: number; readonly corrupt: number; readonly segments: number; readonly skippedSegments: number; readonly pathwaySwitches: number };
  readonly originRatio: number;
}

/** Nearest-rank percentile of a list (0 for an empty one). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function judgeDrill(measured: DrillMeasurements, thresholds: DrillThresholds): DrillVerdict {
  const { viewers } = measured;
  const sum = (pick: (stats: ViewerStats) => number): number => viewers.reduce((total, stats) => total + pick(stats), 0);
  const stalls = viewers.map((stats) => stats.stallMs);
  const startups = viewers.flatMap((stats) => (stats.startupMs === undefined ? [] : [stats.startupMs]));
  const totals = {
    requests: sum((s) => s.requests),
    failed: sum((s) => s.failed),
    failedSegments: sum((s) => s.failedSegments),
    retried: sum((s) => s.retried),
    lost: sum((s) => s.lost),
    corrupt: sum((s) => s.corrupt),
    segments: sum((s) => s.segments),
    skippedSegments: sum((s) => s.skippedSegments),
    pathwaySwitches: sum((s) => s.pathwaySwitches),
  };
  const stallMs = { p50: percentile(stalls, 50), p99: percentile(stalls, 99), max: percentile(stalls, 100) };
  // A viewer that never started has no startup time: it counts as the whole drill.
  const startupAll = [...startups, ...viewers.filter((s) => s.startupMs === undefined).map(() => measured.durationMs)];
  const startupMs = { p50: startupAll.length ? percentile(startupAll, 50) : undefined, p99: startupAll.length ? percentile(startupAll, 99) : undefined };
  const originRatio = totals.requests === 0 ? 0 : measured.originRequests / totals.requests;

  const checks: DrillCheck[] = [];
  const check = (name: string, value: number | undefined, limit: number | undefined, unit: string): void => {
    if (limit === undefined) return;
    checks.push({ name, value, limit, unit, pass: value !== undefined && value <= limit });
  };
  check('stall p99', stallMs.p99, thresholds.maxStallP99Ms, 'ms');
  check('stall max', stallMs.max, thresholds.maxStallMs, 'ms');
  check('startup p99', startupMs.p99, thresholds.maxStartupP99Ms, 'ms');
  check('failed requests', totals.failed, thresholds.maxFailed, '');
  check('failed segment loads', totals.failedSegments, thresholds.maxFailedSegments, '');
  check('lost objects', totals.lost, thresholds.maxLost, '');
  check('corrupt segments', totals.corrupt, thresholds.maxCorrupt, '');
  check('time to detect', measured.detectMs, thresholds.maxDetectMs, 'ms');
  check('time to recover', measured.recoverMs, thresholds.maxRecoverMs, 'ms');
  check('origin ratio', originRatio, thresholds.maxOriginRatio, '');
  if (measured.stayedOnFault !== undefined) check('viewers left on the fault', measured.stayedOnFault, thresholds.maxStayed, '');
  // A fault on edges no viewer watched from moved nobody: such a drill shows nothing.
  if (measured.onFaultAtInject !== undefined) {
    checks.push({ name: 'viewers on the fault when it went in', value: measured.onFaultAtInject, limit: viewers.length, unit: '', pass: measured.onFaultAtInject > 0 });
  }
  // No viewer at all, or none that played, is never a pass.
  checks.push({ name: 'viewers that played', value: viewers.filter((s) => s.segments > 0).length, limit: viewers.length, unit: '', pass: viewers.length > 0 && viewers.every((s) => s.segments > 0) });
  return { pass: checks.every((c) => c.pass), checks, stallMs, startupMs, totals, originRatio };
}

const formatNumber = (value: number | undefined, unit: string): string =>
  value === undefined ? 'never' : unit === 'ms' ? `${Math.round(value)} ms` : Number.isInteger(value) ? String(value) : value.toFixed(3);

/** The verdict as a table; `limits` read "≤ x" and the last column says pass or FAIL. */
export function renderVerdict(measured: DrillMeasurements, verdict: DrillVerdict): string {
  const checkFor = (name: string): DrillCheck | undefined => verdict.checks.find((c) => c.name === name);
  const row = (label: string, value: string, name?: string): string[] => {
    const c = name ? checkFor(name) : undefined;
    return [label, value, c ? `≤ ${formatNumber(c.limit, c.unit)}` : '', c ? (c.pass ? 'pass' : 'FAIL') : ''];
  };
  const { totals } = verdict;
  const rows: string[][] = [
    ['measure', 'value', 'limit', 'result'],
    row('viewers that played', `${checkFor('viewers that played')!.value} of ${measured.viewers.length}`, 'viewers that played').map((cell, i) => (i === 2 ? '' : cell)),
    row('stall per viewer p50', formatNumber(verdict.stallMs.p50, 'ms')),
    row('stall per viewer p99', formatNumber(verdict.stallMs.p99, 'ms'), 'stall p99'),
    row('stall per viewer max', formatNumber(verdict.stallMs.max, 'ms'), 'stall max'),
    row('startup p50 / p99', `${formatNumber(verdict.startupMs.p50, 'ms')} / ${formatNumber(verdict.startupMs.p99, 'ms')}`, 'startup p99'),
    row('viewer requests', String(totals.requests)),
    row('failed requests', String(totals.failed), 'failed requests'),
    row('  of which segment loads', String(totals.failedSegments), 'failed segment loads'),
    row('retried requests', String(totals.retried)),
    row('lost objects (every attempt failed)', String(totals.lost), 'lost objects'),
    row('corrupt segments (bytes ≠ ETag)', String(totals.corrupt), 'corrupt segments'),
    row('pathway switches', String(totals.pathwaySwitches)),
    row('live segments skipped', String(totals.skippedSegments)),
    row('origin requests (origins /metrics)', String(measured.originRequests)),
    row(`origin attempts (${measured.originAttemptsBy} /metrics)`, String(measured.originAttempts)),
    row('edge responses / misses', `${measured.edgeResponses} / ${measured.edgeMisses}`),
    row('origin ratio (origin ÷ viewer req.)', formatNumber(verdict.originRatio, ''), 'origin ratio'),
    // A load scenario injects nothing: there is nothing to detect or recover from.
    ...(measured.faultHeldMs === undefined
      ? []
      : [
          row('fault held', formatNumber(measured.faultHeldMs, 'ms')),
          row('time to detect', formatNumber(measured.detectMs, 'ms'), 'time to detect'),
          row('time to recover', formatNumber(measured.recoverMs, 'ms'), 'time to recover'),
          ...(measured.onFaultAtInject === undefined
            ? []
            : [row('viewers on the faulted edges at inject', String(measured.onFaultAtInject), 'viewers on the fault when it went in').map((cell, i) => (i === 2 ? '≥ 1' : cell))]),
          ...(measured.stayedOnFault === undefined ? [] : [row('viewers left on the faulted edges', String(measured.stayedOnFault), 'viewers left on the fault')]),
        ]),
  ];
  const browser = measured.viewers.find((viewer) => viewer.id === 'chromium');
  if (browser) {
    rows.splice(2, 0, row('chromium viewer (hls.js)', `stall ${formatNumber(browser.stallMs, 'ms')}, ${browser.segments} fragments, ${browser.failed} failed, ${browser.pathwaySwitches} pathway changes`));
  }
  const table = alignColumns(rows);
  return [
    `drill ${measured.scenario}: ${measured.fault}`,
    `media: ${measured.media}; ${measured.viewers.length} viewers for ${(measured.durationMs / 1000).toFixed(1)} s`,
    ...(measured.detects ? [`detected means: ${measured.detects}`] : []),
    '',
    ...table,
    '',
    `verdict: ${verdict.pass ? 'PASS' : `FAIL (${verdict.checks.filter((c) => !c.pass).map((c) => c.name).join(', ')})`}`,
  ].join('\n');
}
