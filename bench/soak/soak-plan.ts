// When a soak does what. After a warm-up (caches fill, V8 sizes its heap, the JIT settles: growth
// then is not a leak), the rest of the run is cut into equal intervals. Growth compares the first
// of them with the last, so the drills go in between: both compared intervals stay free of faults.

/** The time after the warm-up is cut into this many intervals; growth compares the first with the last. */
export const GROWTH_INTERVALS = 5;
/** A drill needs about this long: its own viewers' warm-up, the fault, recovery and settling (20–30 s measured). */
export const MIN_DRILL_SLOT_MS = 40_000;

export interface PlannedDrill {
  readonly scenario: string;
  /** Milliseconds after the soak's viewers start. */
  readonly atMs: number;
  /** Until the next drill's start (or the last interval): a drill that cannot start within it is skipped. */
  readonly slotMs: number;
}

export interface SoakPlan {
  readonly durationMs: number;
  readonly warmupMs: number;
  /** Length of each of the GROWTH_INTERVALS. */
  readonly intervalMs: number;
  readonly drills: readonly PlannedDrill[];
  /** Drills asked for that do not fit between the first and the last interval. */
  readonly dropped: readonly string[];
}

/**
 * A fifth of the run, from 75 s to 2 minutes: longer than the services' 65 s keep-alive timeout, as
 * the extra connections the viewers open on their first requests close only after it (measured: a
 * third of the balancer's and edges' fds went at about 65 s). Half of a run shorter than 2.5 minutes.
 */
export function defaultWarmupMs(durationMs: number): number {
  return Math.min(durationMs / 2, 120_000, Math.max(75_000, durationMs / 5));
}

export function planSoak(durationMs: number, warmupMs: number, drills: readonly string[]): SoakPlan {
  if (!(durationMs > 0)) throw new RangeError(`soak plan: duration must be positive, got ${durationMs} ms`);
  if (!(warmupMs >= 0 && warmupMs < durationMs)) throw new RangeError(`soak plan: the warm-up (${warmupMs} ms) must be shorter than the run (${durationMs} ms)`);
  const intervalMs = (durationMs - warmupMs) / GROWTH_INTERVALS;
  const from = warmupMs + intervalMs;
  const room = durationMs - intervalMs - from;
  const fitting = Math.min(drills.length, Math.floor(room / MIN_DRILL_SLOT_MS));
  const slotMs = fitting > 0 ? room / fitting : 0;
  return {
    durationMs,
    warmupMs,
    intervalMs,
    drills: drills.slice(0, fitting).map((scenario, index) => ({ scenario, atMs: Math.round(from + index * slotMs), slotMs: Math.round(slotMs) })),
    dropped: drills.slice(fitting),
  };
}
