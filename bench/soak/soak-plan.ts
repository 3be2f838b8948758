// When a soak does what. After a warm-up (caches fill, V8 sizes its heap, the JIT settles: growth
// then is not a leak), the rest of the run is cut into equal intervals. Growth compares the first
// of them with the last, so the drills go in between, the last ending a keep-alive timeout before
// the last interval: both compared intervals stay free of faults and of their wake.

/** The time after the warm-up is cut into this many intervals; growth compares the first with the last. */
export const GROWTH_INTERVALS = 5;
/** A drill needs about this long: its own viewers' warm-up, the fault, recovery and settling (20–30 s measured). */
export const MIN_DRILL_SLOT_MS = 40_000;

export interface PlannedDrill {
  readonly scenario: string;
  /** Milliseconds after the soak's viewers start. */
  readonly atMs: number;
  /** Until the next drill's start (or DRILL_SETTLE_MS before the last interval): a drill that cannot start within it is skipped. */
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
 * The time after a drill's end until the last interval: the services' keep-alive timeout (65 s), as
 * the connections a drill moved (viewers leaving a killed or drained edge for another) stay open on
 * the edge they went to until it, and the last interval compares the services, not a drill's wake.
 */
export const DRILL_SETTLE_MS = 65_000;

/**
 * 40 % of the run, from 75 s to 4 minutes, and at most half of it. Measured (bench/README.md): under
 * the soak's 20 viewers every service's RSS climbs for 3 to 5 minutes after its start and then
 * stays flat (the old generation right after full GCs, open fds and Buffers stay flat throughout):
 * V8 growing its heap to a working size and malloc keeping the high-water mark of the Buffers the
 * traffic churns through. A warm-up of a fifth (2 minutes of 10) compared the end of that climb
 * with the plateau. At least 75 s: longer than the services' 65 s keep-alive timeout, as the extra
 * connections the viewers open on their first requests close only after it.
 */
export function defaultWarmupMs(durationMs: number): number {
  return Math.min(durationMs / 2, 240_000, Math.max(75_000, durationMs * 0.4));
}

export function planSoak(durationMs: number, warmupMs: number, drills: readonly string[]): SoakPlan {
  if (!(durationMs > 0)) throw new RangeError(`soak plan: duration must be positive, got ${durationMs} ms`);
  if (!(warmupMs >= 0 && warmupMs < durationMs)) throw new RangeError(`soak plan: the warm-up (${warmupMs} ms) must be shorter than the run (${durationMs} ms)`);
  const intervalMs = (durationMs - warmupMs) / GROWTH_INTERVALS;
  const from = warmupMs + intervalMs;
  // The last drill ends about MIN_DRILL_SLOT_MS after it starts; its wake settles before the last interval.
  const room = durationMs - intervalMs - DRILL_SETTLE_MS - from;
  const fitting = Math.max(0, Math.min(drills.length, Math.floor(room / MIN_DRILL_SLOT_MS)));
  const slotMs = fitting > 0 ? room / fitting : 0;
  return {
    durationMs,
    warmupMs,
    intervalMs,
    drills: drills.slice(0, fitting).map((scenario, index) => ({ scenario, atMs: Math.round(from + index * slotMs), slotMs: Math.round(slotMs) })),
    dropped: drills.slice(fitting),
  };
}
