import { cp, mkdtemp, rm } from 'node:fs/promises';
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
 * The live channel the browser tests watch: the real encoder, kept cheap (two small rungs, the
 * fastest preset), with a 30 s window (15 segments) so a browser slowed down by a busy CI machine
 * can fall a few segments behind without dropping out of it.
 */
export const PLAYER_TEST_LIVE = {
  id: 'channel-1',
  input: 'lavfi:testsrc2=size=854x480:rate=30',
  args: ['--window', '15', '--rendition', '240p', '--rendition', '480p', '--preset', 'ultrafast'],
} as const;

/** A private copy of the player catalog: the stack's live encoder writes its channel into the catalog it serves. */
export async function copyPlayerTestCatalog(): Promise<{ readonly dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'streamedge-player-live-'));
  await cp(await ensurePlayerTestCatalog(), dir, { recursive: true });
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
