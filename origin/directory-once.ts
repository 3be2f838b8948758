import { mkdtemp, rename, rm } from 'node:fs/promises';

/**
 * Makes `dir` once, even when several processes race for it: each builds into its own scratch
 * directory beside `dir` and renames it into place; a rename onto an existing directory fails, so
 * the first finished build wins and the others discard theirs. Readers therefore only ever see
 * a complete directory.
 */
export async function buildDirectoryOnce(dir: string, isComplete: (dir: string) => Promise<boolean>, build: (scratch: string) => Promise<void>): Promise<string> {
  if (await isComplete(dir)) return dir;
  const scratch = await mkdtemp(`${dir}.tmp-`);
  try {
    await build(scratch);
    try {
      await rename(scratch, dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  if (!(await isComplete(dir))) throw new Error(`${dir} exists but is incomplete; delete it and retry`);
  return dir;
}

