// Faults made with a signal to processes on this machine: SIGKILL (a crash), SIGTERM (an orderly
// drain) and SIGSTOP (a hang, undone with SIGCONT). A killed or drained process is brought back by
// its supervisor — `streamedge start`, or systemd's Restart= in production — so restoring it means
// waiting for its new pid, never starting one behind the supervisor's back. A crash loop kills
// every process the supervisor starts in its place again until the fault is restored: the
// service stays down for the hold time, as one that crashes on start-up does.
import { DrillSetupError, waitFor, type DrillFault } from './drill-fault.js';
import type { DrillTarget } from './drill-target.js';

export type FaultSignal = 'SIGKILL' | 'SIGTERM' | 'SIGSTOP';

export interface SignalFaultOptions {
  readonly target: DrillTarget;
  /** Service ids from the state file, or 'consul'; each gets the signal at once. */
  readonly ids: readonly string[];
  readonly signal: FaultSignal;
  /** Bound on waiting for the supervisor to bring a killed or drained process back. */
  readonly restartTimeoutMs: number;
  /** SIGKILL only: kill each restarted process again until restore() (held for the drill's fault time). */
  readonly crashLoop?: boolean;
}

/** How often a crash loop looks for a restarted process in the state file. */
const CRASH_LOOP_POLL_MS = 100;

function signalled(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    // Already gone (a supervisor may be between two restarts): nothing left to signal.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export async function createSignalFault(options: SignalFaultOptions): Promise<DrillFault> {
  const { target, ids, signal } = options;
  if (ids.length === 0) throw new TypeError('signal fault: no process to signal');
  if (options.crashLoop && signal !== 'SIGKILL') throw new TypeError(`signal fault: a crash loop kills (SIGKILL), not ${signal}`);
  if (target.stateFile === undefined) {
    throw new DrillSetupError(`sending ${signal} to ${ids.join(', ')} needs its process on this machine: run against a stack state file (--stack), not a deployment reached by URL`);
  }
  // The last pid signalled per id: restored once the supervisor replaced every one.
  const pids = new Map<string, number>();
  for (const id of ids) {
    const pid = await target.pidOf(id);
    if (pid === undefined) throw new DrillSetupError(`${target.stateFile} records no process "${id}"`);
    pids.set(id, pid);
  }
  let stopped = false;
  let looping: { timer: NodeJS.Timeout; busy: boolean } | undefined;
  const stopLoop = (): void => {
    if (looping) clearInterval(looping.timer);
    looping = undefined;
  };
  /** One crash-loop round: a restarted process (a new pid in the state file) is killed again. */
  const killRestarted = async (): Promise<void> => {
    const loop = looping;
    if (!loop || loop.busy) return;
    loop.busy = true;
    try {
      for (const id of ids) {
        const now = await target.pidOf(id).catch(() => undefined);
        if (looping !== loop || now === undefined || now === pids.get(id)) continue;
        signalled(now, 'SIGKILL');
        pids.set(id, now);
      }
    } finally {
      loop.busy = false;
    }
  };
  const listed = ids.map((id) => `${id} (pid ${pids.get(id)})`).join(', ');
  const after = signal === 'SIGSTOP' ? '' : options.crashLoop ? ', killed again at every restart until the fault time is over (a crash loop), then restarted by its supervisor' : ', restarted by its supervisor';
  return {
    description: `${signal} ${listed}${after}`,
    // A crash loop lasts the drill's fault time; a single kill or drain ends when the supervisor restarts.
    selfRestoring: signal !== 'SIGSTOP' && !options.crashLoop,
    inject: async () => {
      for (const pid of pids.values()) signalled(pid, signal);
      stopped = signal === 'SIGSTOP';
      if (options.crashLoop) {
        looping = { timer: setInterval(() => void killRestarted(), CRASH_LOOP_POLL_MS), busy: false };
      }
    },
    restore: async () => {
      if (signal === 'SIGSTOP') {
        for (const pid of pids.values()) signalled(pid, 'SIGCONT');
        stopped = false;
        return;
      }
      stopLoop();
      // Restored once a new process is there for each; its way back into service is the recovery measured.
      for (const id of ids) {
        await waitFor(`${id} was not restarted by its supervisor`, options.restartTimeoutMs, async () => {
          const now = await target.pidOf(id);
          return now !== undefined && now !== pids.get(id);
        });
      }
    },
    abandon: () => {
      stopLoop();
      if (!stopped) return;
      for (const pid of pids.values()) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          // already gone
        }
      }
      stopped = false;
    },
  };
}
