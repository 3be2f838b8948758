// What a browser test watching the stack's live channel sets up, and its teardown in one place:
// the measurements written to test-artifacts/ first, then the page, the browser, the stack and the
// private catalog copy, each only if it came up.
import { writeFile } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import type { LocalStack } from '../../stack/local-stack.js';
import { artifactPath } from './artifacts.js';
import type { PlayerPage } from './player-page.js';

export interface LiveViewing {
  readonly stack?: LocalStack | undefined;
  readonly browser?: Browser | undefined;
  readonly player?: PlayerPage | undefined;
  readonly content?: { remove(): Promise<void> } | undefined;
}

export async function endLiveViewing(viewing: LiveViewing, measurementsFile: string, measurements: unknown): Promise<void> {
  await writeFile(await artifactPath(measurementsFile), `${JSON.stringify(measurements, null, 2)}\n`).catch(() => undefined);
  await closeLiveViewing(viewing);
}

/** The teardown alone (a benchmark reports its figures itself). */
export async function closeLiveViewing(viewing: LiveViewing): Promise<void> {
  await viewing.player?.close();
  await viewing.browser?.close();
  // The edges' drain delay (kept for the drain tests) would only hold up a teardown with no viewer left.
  await Promise.all(viewing.stack?.edges.map((edge) => edge.process.kill()) ?? []);
  await viewing.stack?.stop();
  await viewing.content?.remove();
}
