// The orphan guard's own process: it outlives a runner that dies without cleaning up (SIGKILL, OOM)
// and stops the runner's children then. Protocol on stdin, one line each: `+PID` watch, `-PID` forget.
// End of stdin means the runner is gone (or finished): stop whatever is still watched, then exit.
import { isProcessAlive } from '../infra/runtime/process-alive.js';

const GRACE_MS = 5000;
const watched = new Set<number>();

function signal(pids: readonly number[], name: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, name);
    } catch {
      // already gone
    }
  }
}

async function stopWatched(): Promise<void> {
  const pids = [...watched].filter(isProcessAlive);
  signal(pids, 'SIGTERM');
  const deadline = Date.now() + GRACE_MS;
  while (pids.some(isProcessAlive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  signal(pids.filter(isProcessAlive), 'SIGKILL');
}

// A terminal's Ctrl-C reaches the whole process group; the guard must stay to see the runner out.
for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(name, () => {});

let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  pending += chunk;
  let newline: number;
  while ((newline = pending.indexOf('\n')) !== -1) {
    const line = pending.slice(0, newline).trim();
    pending = pending.slice(newline + 1);
    const pid = Number(line.slice(1));
    if (!Number.isInteger(pid) || pid <= 0) continue;
    if (line.startsWith('+')) watched.add(pid);
    else if (line.startsWith('-')) watched.delete(pid);
  }
});
process.stdin.on('end', () => {
  void stopWatched().finally(() => process.exit(0));
});
