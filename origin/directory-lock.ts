import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isProcessAlive } from '../infra/runtime/process-alive.js';

/** A lock whose creator has not written its pid within this long is treated as abandoned. */
const PID_GRACE_MS = 10_000;

async function isAbandoned(lock: string): Promise<boolean> {
  const pid = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => ''));
  if (Number.isInteger(pid) && pid > 0) return !isProcessAlive(pid);
  const created = await stat(lock).then((stats) => stats.mtimeMs, () => undefined);
  return created !== undefined && Date.now() - created > PID_GRACE_MS;
}

/**
 * Runs `work` while holding a lock directory (mkdir is atomic), so two processes generating into
 * the same catalog never encode the same asset at once. A lock left by a dead process (same
 * machine) is broken: renamed away first, so only one waiter can take it over.
 */
export async function withDirectoryLock<T>(lock: string, work: () => Promise<T>, pollMs = 250): Promise<T> {
  for (;;) {
    try {
      await mkdir(lock);
      await writeFile(join(lock, 'pid'), String(process.pid));
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        // the parent was removed by a run that just finished; recreate it and try again
        await mkdir(dirname(lock), { recursive: true });
        continue;
      }
      if (code !== 'EEXIST') throw error;
      if (await isAbandoned(lock)) {
        const broken = `${lock}.broken-${process.pid}-${Date.now()}`;
        if (await rename(lock, broken).then(() => true, () => false)) await rm(broken, { recursive: true, force: true });
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}
