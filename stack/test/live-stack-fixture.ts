// A local stack with a live channel, for tests: the encoder writes into a copy of the test catalog
// in a temporary directory, which goes once the stack has stopped (after hooks run first to last,
// and removing the directory first raced the encoder, ENOTEMPTY, and left the stack running).
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { ensureTestCatalog } from '../../origin/test/catalog-fixture.js';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../local-stack.js';

export interface LiveStackFixture {
  readonly stack: LocalStack;
  /** The temporary directory holding `content/` (free for a test's other files). */
  readonly dir: string;
}

/** Starts the stack on a fresh catalog copy; `options(dir, contentDir)` gives the rest (with `live`). */
export async function startLiveStack(t: TestContext, prefix: string, options: (dir: string, contentDir: string) => LocalStackOptions): Promise<LiveStackFixture> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const removeDir = (): Promise<void> => rm(dir, { recursive: true, force: true });
  const contentDir = join(dir, 'content');
  try {
    await cp(await ensureTestCatalog(), contentDir, { recursive: true });
    const stack = await startLocalStack(options(dir, contentDir));
    t.after(async () => {
      // No viewer is left: the edges' drain delay (kept for the edge-drain drill) would only hold up
      // the teardown. A killed edge is restarted only after restartAfterMs, by which time stop() has begun.
      await Promise.all(stack.edges.map((edge) => edge.process.kill()));
      await stack.stop();
      await removeDir();
    });
    return { stack, dir };
  } catch (error) {
    await removeDir();
    throw error;
  }
}
