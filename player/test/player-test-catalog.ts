import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENERATOR_VERSION, generateCatalog } from '../../origin/catalog-generator.js';

/**
 * Seconds of VOD in the browser tests' catalog: enough to watch 6 s of each asset after startup
 * without reaching its end. (The shared 6 s test catalog ends too early for that.)
 */
export const PLAYER_CATALOG_SECONDS = 12;

/**
 * Generates the catalog once per machine under os.tmpdir(); the generator skips assets that are
 * already complete and redoes interrupted ones, so later runs cost nothing.
 */
export async function ensurePlayerTestCatalog(): Promise<string> {
  const dir = join(tmpdir(), `streamedge-player-catalog-v${GENERATOR_VERSION}-${PLAYER_CATALOG_SECONDS}s`);
  await generateCatalog({ dir, durationSeconds: PLAYER_CATALOG_SECONDS });
  return dir;
}

/**
 * Origin flags for a 30 s live window (15 segments) instead of the default 12 s: a browser slowed
 * down by a busy CI machine can fall a few segments behind without dropping out of the window.
 */
export const LIVE_WINDOW_ARGS: readonly string[] = ['--live-window', '15'];
