import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const GUARD_SCRIPT = fileURLToPath(new URL('./orphan-guard-process.js', import.meta.url));

/**
 * Makes sure child processes die with their runner. Children share the runner's process group, so
 * a terminal's Ctrl-C reaches them all, but a runner killed by SIGKILL would leave them running;
 * the guard, a tiny separate process holding a pipe from the runner, notices the pipe close and
 * stops every process still watched.
 */
export interface OrphanGuard {
  watch(pid: number | undefined): void;
  forget(pid: number | undefined): void;
  /** Normal shutdown: the guard stops whatever is still watched (nothing, ideally) and exits. */
  close(): Promise<void>;
}

export function startOrphanGuard(): OrphanGuard {
  const guard = spawn(process.execPath, [GUARD_SCRIPT], { stdio: ['pipe', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => guard.once('exit', () => resolve()));
  // The guard must never keep the runner alive by itself.
  guard.unref();
  const stdin = guard.stdin!;
  (stdin as unknown as { unref?: () => void }).unref?.();
  stdin.on('error', () => {}); // the guard died first: nothing left to tell it
  const send = (line: string): void => {
    if (!stdin.destroyed && !stdin.writableEnded) stdin.write(`${line}\n`);
  };
  return {
    watch: (pid) => pid !== undefined && send(`+${pid}`),
    forget: (pid) => pid !== undefined && send(`-${pid}`),
    close: async () => {
      guard.ref();
      stdin.end();
      await exited;
    },
  };
}
