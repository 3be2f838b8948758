// What every fault a drill injects looks like: inject, then restore; the runner sequences them
// and calls `abandon` instead of `restore` only when the drill itself is interrupted.

export interface DrillFault {
  /** What is done, for the progress line and the report, e.g. "SIGKILL edge-1 (pid 4242)". */
  readonly description: string;
  /** The system ends this fault itself (a supervisor restarts a killed process): restore() waits for that, without a hold time. */
  readonly selfRestoring: boolean;
  inject(): Promise<void>;
  /** Undo the fault, or wait until the system undid it (a killed process restarted by its supervisor). */
  restore(): Promise<void>;
  /** Best effort, synchronous enough for a signal handler: never leave a process stopped. */
  abandon(): void;
}

/** The drill cannot run against this target (e.g. a signal fault without local pids). */
export class DrillSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DrillSetupError';
  }
}

export async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>, intervalMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() >= deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Several faults as one, e.g. Consul hung and an edge killed while it hangs: injected in order and
 * restored in the same order (the Consul agent answers again before a killed service must register).
 */
export function combinedFault(faults: readonly DrillFault[]): DrillFault {
  return {
    description: faults.map((fault) => fault.description).join('; then '),
    selfRestoring: faults.every((fault) => fault.selfRestoring),
    inject: async () => {
      for (const fault of faults) await fault.inject();
    },
    // Every one is tried, so one that cannot be undone leaves none of the others in place.
    restore: async () => {
      const failures: unknown[] = [];
      for (const fault of faults) await fault.restore().catch((error: unknown) => failures.push(error));
      if (failures.length > 0) throw failures[0];
    },
    abandon: () => {
      for (const fault of faults) fault.abandon();
    },
  };
}
