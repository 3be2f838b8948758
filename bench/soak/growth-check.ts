// Whether a process's memory or file descriptors kept growing during a soak. Growth is the median
// of its last interval against the median of its first interval after its warm-up:
// - after the warm-up, because caches filling, V8 sizing its heap and the JIT settling are not
//   leaks (a process restarted by a drill gets its own warm-up, from its first sample);
// - medians of intervals, not single samples, because a heap sample lands anywhere in a GC cycle
//   and RSS steps when V8 grows a space: the median is what the process typically held then;
// - the last interval against the first, so a leak of any shape shows, not only a straight line.
import { median } from '../wrk-load.js';

/** The target: after warm-up, growth < 5 %. */
export const GROWTH_LIMIT = 0.05;
/** Fewer samples than this in an interval make its median meaningless. */
export const MIN_INTERVAL_SAMPLES = 3;

export interface TimedValue {
  /** Milliseconds after the soak's viewers started. */
  readonly atMs: number;
  readonly value: number;
}

export interface GrowthWindows {
  readonly warmupMs: number;
  readonly intervalMs: number;
}

export type GrowthVerdict =
  | { readonly judged: true; readonly start: number; readonly end: number; readonly growth: number; readonly pass: boolean }
  | { readonly judged: false; readonly reason: string };

function growthOf(start: number, end: number): number {
  if (start > 0) return end / start - 1;
  return end > 0 ? Infinity : 0;
}

/** Judges one series of samples (in time order) against `limit` (growth must stay below it). */
export function judgeGrowth(samples: readonly TimedValue[], windows: GrowthWindows, limit = GROWTH_LIMIT): GrowthVerdict {
  if (samples.length === 0) return { judged: false, reason: 'no samples' };
  const firstFrom = samples[0]!.atMs + windows.warmupMs;
  const firstTo = firstFrom + windows.intervalMs;
  const lastTo = samples.at(-1)!.atMs;
  const lastFrom = lastTo - windows.intervalMs;
  if (lastFrom < firstTo) {
    const after = Math.max(0, lastTo - firstFrom) / 1000;
    return { judged: false, reason: `sampled for ${after.toFixed(0)} s after its warm-up: too short for two ${(windows.intervalMs / 1000).toFixed(0)} s intervals` };
  }
  const first = samples.filter((sample) => sample.atMs >= firstFrom && sample.atMs < firstTo).map((sample) => sample.value);
  const last = samples.filter((sample) => sample.atMs > lastFrom && sample.atMs <= lastTo).map((sample) => sample.value);
  if (first.length < MIN_INTERVAL_SAMPLES || last.length < MIN_INTERVAL_SAMPLES) {
    return { judged: false, reason: `${first.length} and ${last.length} samples in the first and last intervals (need ${MIN_INTERVAL_SAMPLES} each)` };
  }
  const start = median(first);
  const end = median(last);
  const growth = growthOf(start, end);
  return { judged: true, start, end, growth, pass: growth < limit };
}

/** A process's heap right after each full collection: the samples whose count of full GCs rose since the previous one. */
export function afterFullGcs(samples: readonly { readonly atMs: number; readonly gcs: number; readonly value: number }[]): TimedValue[] {
  return samples.flatMap((sample, index) => (index > 0 && sample.gcs > samples[index - 1]!.gcs ? [{ atMs: sample.atMs, value: sample.value }] : []));
}
