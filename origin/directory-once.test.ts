import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildDirectoryOnce } from './directory-once.js';

const isComplete = (dir: string): Promise<boolean> =>
  stat(join(dir, 'done')).then(
    () => true,
    () => false,
  );

test('racing builders publish one complete directory and leave no scratch behind', async () => {
  const parent = await mkdtemp(join(tmpdir(), 'streamedge-once-'));
  try {
    const dir = join(parent, 'catalog');
    let builds = 0;
    const builder = (name: string, delayMs: number) => async (scratch: string) => {
      builds++;
      await writeFile(join(scratch, 'who'), name);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      await writeFile(join(scratch, 'done'), '');
    };
    const results = await Promise.all([
      buildDirectoryOnce(dir, isComplete, builder('first', 30)),
      buildDirectoryOnce(dir, isComplete, builder('second', 60)),
    ]);
    assert.deepEqual(results, [dir, dir]);
    assert.equal(builds, 2);
    assert.equal(await readFile(join(dir, 'who'), 'utf8'), 'first', 'the first finished build wins');
    assert.deepEqual(await readdir(parent), ['catalog']);

    assert.equal(await buildDirectoryOnce(dir, isComplete, builder('third', 0)), dir);
    assert.equal(builds, 2, 'a complete directory is reused without building');
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
});

test('a failed build leaves nothing behind and reports the error', async () => {
  const parent = await mkdtemp(join(tmpdir(), 'streamedge-once-'));
  try {
    await assert.rejects(
      buildDirectoryOnce(join(parent, 'catalog'), isComplete, async () => {
        throw new Error('ffmpeg failed');
      }),
      /ffmpeg failed/,
    );
    assert.deepEqual(await readdir(parent), []);
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
});
