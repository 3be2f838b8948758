// CPU time a process tree has used (Linux /proc), so a benchmark can report CPU per request: on a
// shared machine, where throughput and latency move with everyone else's load, the CPU a server
// spends on its own work is the steadier figure.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { processTree } from './process-rss.js';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

/** User plus system CPU seconds of one process, or 0 once it is gone. */
async function processCpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: state is the first, utime the 12th, stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks();
  } catch {
    return 0;
  }
}

/** CPU seconds used so far by the process and every descendant (an edge's workers, nginx's workers). */
export async function treeCpuSeconds(root: number): Promise<number> {
  const times = await Promise.all((await processTree(root)).map(processCpuSeconds));
  return times.reduce((sum, seconds) => sum + seconds, 0);
}
