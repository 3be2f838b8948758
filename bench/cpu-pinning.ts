// Keeps a benchmark's client and servers off each other's cores (Linux, taskset from util-linux):
// on a 2-core machine a client that shares both cores with the servers it measures takes CPU from
// them exactly when they are busiest. Every thread of every process in a tree is pinned, and
// threads or processes started later inherit the affinity.
import { execFile } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { processTree } from '../infra/testing/process-footprint.js';

const run = promisify(execFile);

/** The CPU list of `taskset -c`: CPU numbers and ranges, e.g. "0" or "1-3,5". */
const CPU_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

/** The CPUs a list names, each checked against the CPUs this machine has. */
export function cpusOf(list: string, cpuCount: number): number[] {
  if (!CPU_LIST.test(list)) throw new TypeError(`CPU list: expected numbers and ranges like 0 or 1-3,5, got "${list}"`);
  const cpus = new Set<number>();
  for (const item of list.split(',')) {
    const [first, last = first] = item.split('-').map(Number) as [number, number?];
    if (last < first) throw new RangeError(`CPU list: range ${item} runs backwards`);
    if (last >= cpuCount) throw new RangeError(`CPU list: CPU ${last} does not exist (this machine has ${cpuCount}: 0-${cpuCount - 1})`);
    for (let cpu = first; cpu <= last; cpu++) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** Client and server CPU lists that share no CPU, or an error saying why they cannot be used. */
export function checkPinning(clientCpus: string, serverCpus: string, cpuCount = availableParallelism()): { client: number[]; servers: number[] } {
  const client = cpusOf(clientCpus, cpuCount);
  const servers = cpusOf(serverCpus, cpuCount);
  const shared = client.filter((cpu) => servers.includes(cpu));
  if (shared.length > 0) throw new RangeError(`CPU pinning: client and servers would share CPU ${shared.join(',')}`);
  return { client, servers };
}

/** Pins every thread of `root` and of its descendants to `cpus`; the process tree's pids. */
export async function pinProcessTree(root: number, cpus: readonly number[]): Promise<number[]> {
  const pids = await processTree(root);
  for (const pid of pids) {
    try {
      await run('taskset', ['--all-tasks', '--pid', '--cpu-list', cpus.join(','), String(pid)], { timeout: 5_000 });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new Error(code === 'ENOENT' ? 'CPU pinning needs taskset (util-linux), not found' : `CPU pinning: taskset on pid ${pid} failed: ${(error as Error).message}`);
    }
  }
  return pids;
}
