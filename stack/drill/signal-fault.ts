// Faults made with a signal to a process on this machine: SIGKILL (a crash), SIGTERM (an orderly
// drain) and SIGSTOP (a hang, undone with SIGCONT). A killed or drained process is brought back by
// its supervisor — `streamedge start`, or systemd's Restart= in production — so restoring it means
// waiting for its new pid, never starting one behind the supervisor's back.
import { DrillSetupError, waitFor, type DrillFault } from './drill-fault.js';
import type { DrillTarget } from './drill-target.js';

export type FaultSignal = 'SIGKILL' | 'SIGTERM' | 'SIGSTOP';

export interface SignalFaultOptions {
  readonly target: DrillTarget;
  /** A service id from the state file, or 'consul'. */
  readonly id: string;
  readonly signal: FaultSignal;
  /** Bound on waiting for the supervisor to bring a killed or drained process back. */
  readonly restartTimeoutMs: number;
}

export async function createSignalFault(options: SignalFaultOptions): Promise<DrillFault> {
  const { target, id, signal } = options;
  if (target.stateFile === undefined) {
    throw new DrillSetupError(`sending ${signal} to ${id} needs its process on this machine: run against a stack state file (--stack), not a deployment reached by URL`);
  }
  const pid = await target.pidOf(id);
  if (pid === undefined) throw new DrillSetupError(`${target.stateFile} records no process "${id}"`);
  let stopped = false;
  return {
    description: `${signal} ${id} (pid ${pid})${signal === 'SIGSTOP' ? '' : ', restarted by its supervisor'}`,
    selfRestoring: signal !== 'SIGSTOP',
    inject: async () => {
      process.kill(pid, signal);
      stopped = signal === 'SIGSTOP';
    },
    restore: async () => {
      if (signal === 'SIGSTOP') {
        process.kill(pid, 'SIGCONT');
        stopped = false;
        return;
      }
      // Restored once a new process is there; its way back into service is the recovery measured.
      await waitFor(`${id} was not restarted by its supervisor`, options.restartTimeoutMs, async () => {
        const now = await target.pidOf(id);
        return now !== undefined && now !== pid;
      });
    },
    abandon: () => {
      if (!stopped) return;
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // already gone
      }
      stopped = false;
    },
  };
}
