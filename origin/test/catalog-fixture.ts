import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ASSET_MARKER, GENERATOR_VERSION, generateCatalog } from '../catalog-generator.js';
import { DEMO_ASSETS, RENDITIONS } from '../renditions.js';

/** Seconds of video in the shared test catalog: three 2 s segments per rendition. */
export const TEST_CATALOG_SECONDS = 6;
const TEST_CATALOG_VERSION = `v${GENERATOR_VERSION}-${TEST_CATALOG_SECONDS}s`;

export function testCatalogDir(): string {
  return join(tmpdir(), `streamedge-test-catalog-${TEST_CATALOG_VERSION}`);
}

async function isComplete(dir: string): Promise<boolean> {
  for (const asset of DEMO_ASSETS) {
    const present = await stat(join(dir, 'vod', asset.id, ASSET_MARKER)).then(
      () => true,
      () => false,
    );
    if (!present) return false;
  }
  return true;
}

let pending: Promise<string> | undefined;

/**
 * A small real catalog (demo-ts and demo-fmp4, 240p/480p/720p, 6 s) made once per machine in a
 * shared directory under os.tmpdir() and reused by every test process. Processes racing to make it
 * take turns per asset (generateCatalog's lock), so it is encoded once and never seen half-made.
 */
export function ensureTestCatalog(): Promise<string> {
  pending ??= (async () => {
    const dir = testCatalogDir();
    if (!(await isComplete(dir))) {
      await generateCatalog({ dir, durationSeconds: TEST_CATALOG_SECONDS, renditions: RENDITIONS.map((r) => r.name) });
    }
    return dir;
  })();
  pending.catch(() => (pending = undefined));
  return pending;
}
