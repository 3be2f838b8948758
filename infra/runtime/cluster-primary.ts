// The node:cluster primary's side of keeping N workers serving, shared by every command that runs
// with --workers: fork them, replace one that dies after the start, give up loudly if one dies
// before it listens, and on shutdown wait for them with a deadline. Talking to workers (asks,
// answers, one-way commands) is cluster-request.ts's and the command's business, not this one's.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from './logger.js';

export interface ClusterPrimaryOptions {
  /** How many workers to keep running. */
  readonly workers: number;
  /** Names the workers in errors and logs: "<name> worker 123 exited (1) before listening". */
  readonly name: string;
  readonly logger: Logger;
  /** Environment of every forked worker (added to the primary's). */
  readonly env?: NodeJS.ProcessEnv;
  /** Signals the primary passes on to every live worker (e.g. SIGHUP: reload certificates). */
  readonly forwardSignals?: readonly NodeJS.Signals[];
}

export interface ClusterPrimary {
  /** The shared port, once every worker listens; rejects when a worker exits before that. */
  readonly listening: Promise<number>;
  /** From now on a worker that dies stays dead (a drain has begun). */
  stopReplacing(): void;
  /**
   * Stops replacing workers, lets `askToClose` tell the live ones to close, and resolves when all
   * have exited; those still running after `deadlineMs` are killed (SIGKILL).
   */
  stopWorkers(askToClose: (workers: readonly Worker[]) => void, deadlineMs: number): Promise<void>;
}

const liveWorkers = (): Worker[] => Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && !worker.isDead());

/** Forks `workers` workers of this program (or of cluster.setupPrimary's `exec`) and keeps them running. */
export function startClusterPrimary(options: ClusterPrimaryOptions): ClusterPrimary {
  if (!Number.isInteger(options.workers) || options.workers < 1) throw new TypeError(`workers must be an integer ≥ 1, got ${options.workers}`);
  if (options.name === '') throw new TypeError('name must not be empty');
  if (!cluster.isPrimary) throw new TypeError('startClusterPrimary runs in the cluster primary only');
  const fork = (): Worker => cluster.fork(options.env);
  let replacing = true;
  let started = false;
  let onListening: (worker: Worker, address: { port: number }) => void = () => {};
  let onExit: (worker: Worker, code: number, signal: string) => void = () => {};
  const forward = (signal: NodeJS.Signals): void => {
    for (const worker of liveWorkers()) worker.process.kill(signal);
  };
  for (const signal of options.forwardSignals ?? []) process.on(signal, forward);
  const detach = (): void => {
    cluster.off('listening', onListening);
    cluster.off('exit', onExit);
    for (const signal of options.forwardSignals ?? []) process.off(signal, forward);
  };

  const listening = new Promise<number>((resolve, reject) => {
    let count = 0;
    onListening = (_worker, address) => {
      if (started || ++count < options.workers) return;
      started = true;
      resolve(address.port);
    };
    onExit = (worker, code, signal) => {
      if (!replacing) return;
      if (!started) {
        // A worker that cannot start (port taken, bad host) would fail again: give up loudly.
        detach();
        for (const other of liveWorkers()) other.kill();
        reject(new Error(`${options.name} worker ${worker.process.pid} exited (${code ?? signal}) before listening`));
        return;
      }
      options.logger.error({ worker: worker.process.pid, code, signal }, `${options.name} worker died; starting another`);
      fork();
    };
  });
  cluster.on('listening', onListening);
  cluster.on('exit', onExit);
  for (let i = 0; i < options.workers; i++) fork();

  return {
    listening,
    stopReplacing() {
      replacing = false;
    },
    async stopWorkers(askToClose, deadlineMs) {
      replacing = false;
      const alive = liveWorkers();
      const exited = Promise.all(alive.map((worker) => new Promise<void>((resolve) => worker.once('exit', () => resolve()))));
      askToClose(alive);
      const deadline = setTimeout(() => {
        for (const worker of liveWorkers()) worker.kill('SIGKILL');
      }, deadlineMs);
      await exited;
      clearTimeout(deadline);
      detach();
    },
  };
}
