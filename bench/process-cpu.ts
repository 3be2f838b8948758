// CPU time a process tree used, from Linux /proc: on a shared machine, where req/s swings with
// whatever else runs, CPU per request is the steadier measure of what a server costs.
import { readFile } from 'node:fs/promises';
import { processTree } from './process-rss.js';

// USER_HZ, the unit of /proc/<pid>/stat's times, is 100 on every Linux architecture Node runs on.
const TICKS_PER_SECOND = 100;

async function cpuTicks(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    // The process ended between listing and reading.
    return 0;
  }
}

/** User plus system CPU seconds used so far by `root` and its descendants (cluster workers, HAProxy's worker). */
export async function treeCpuSeconds(root: number): Promise<number> {
  const ticks = await Promise.all((await processTree(root)).map(cpuTicks));
  return ticks.reduce((sum, value) => sum + value, 0) / TICKS_PER_SECOND;
}
