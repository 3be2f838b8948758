// How long a benchmark's threads waited for a CPU (Linux schedstat: runnable, but every CPU busy),
// beside how long they ran. On a machine shared with other work, a client or server can fall behind
// without being costly itself: the wait says whether the time went to its own work or to the queue.
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { processTree } from '../infra/testing/process-footprint.js';

/** A thread's totals so far, ms. */
export interface SchedStat {
  readonly runMs: number;
  readonly waitMs: number;
}

/** Reads a schedstat line: ns on a CPU, ns waiting on a run queue, time slices. */
export function parseSchedStat(text: string): SchedStat {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 3 || !fields.every((field) => /^\d+$/.test(field))) throw new Error(`schedstat: expected three counters, got "${text.trim()}"`);
  return { runMs: Number(fields[0]) / 1e6, waitMs: Number(fields[1]) / 1e6 };
}

/**
 * The calling thread's own totals. Synchronous on purpose: an asynchronous read runs on a libuv pool
 * thread, and /proc/thread-self would then be that thread.
 */
export function ownThreadSchedStat(): SchedStat {
  return parseSchedStat(readFileSync('/proc/thread-self/schedstat', 'latin1'));
}

/** Totals over every thread of a process and its descendants (threads that ended are not counted). */
export async function treeSchedStat(root: number): Promise<SchedStat> {
  let runMs = 0;
  let waitMs = 0;
  for (const pid of await processTree(root)) {
    let tasks: string[];
    try {
      tasks = await readdir(`/proc/${pid}/task`);
    } catch {
      continue; // Gone since the tree was listed.
    }
    for (const task of tasks) {
      try {
        const stat = parseSchedStat(await readFile(`/proc/${pid}/task/${task}/schedstat`, 'latin1'));
        runMs += stat.runMs;
        waitMs += stat.waitMs;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT' && (error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    }
  }
  return { runMs, waitMs };
}
