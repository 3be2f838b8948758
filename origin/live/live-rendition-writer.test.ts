import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { openLiveRenditionWriter, PLAYLIST_NAME } from './live-rendition-writer.js';

const work = await mkdtemp(join(tmpdir(), 'streamedge-live-writer-'));
after(() => rm(work, { recursive: true, force: true }));

let made = 0;
async function finishedSegment(dir: string): Promise<string> {
  const path = join(dir, `encoder-${made++}.ts`);
  await writeFile(path, `segment ${made}`);
  return path;
}

const segmentFiles = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((name) => name.startsWith('seg-')).sort((a, b) => a.length - b.length || a.localeCompare(b));

it('moves segments in, rewrites the playlist in one rename, and deletes evicted segments only after the grace period', async () => {
  const dir = join(work, 'slide');
  const staging = join(work, 'slide-staging');
  await Promise.all([mkdir(dir), mkdir(staging)]);
  let now = Date.UTC(2026, 11, 3, 10, 0, 0);
  const writer = await openLiveRenditionWriter({ dir, targetDuration: 2, windowSize: 3, clock: () => now });
  for (let i = 0; i < 4; i++) {
    now += 2000;
    const entry = await writer.publish(await finishedSegment(staging), 2000);
    assert.equal(entry.msn, i);
    assert.equal(entry.programDateTimeMs, now - 2000, 'the segment started one duration before it was finished');
  }
  assert.deepEqual(await readdir(staging), [], 'every finished segment was moved, not copied');
  const playlist = await readFile(join(dir, PLAYLIST_NAME), 'utf8');
  assert.match(playlist, /#EXT-X-MEDIA-SEQUENCE:1\n/);
  assert.deepEqual(playlist.split('\n').filter((line) => line.startsWith('seg-')), ['seg-1.ts', 'seg-2.ts', 'seg-3.ts']);
  assert.deepEqual(await segmentFiles(dir), ['seg-0.ts', 'seg-1.ts', 'seg-2.ts', 'seg-3.ts'], 'seg-0 left the window but is kept for the grace period');
  assert.equal(writer.pendingDeletions().get('seg-0.ts'), now + 3 * 2000 + 2000, 'grace = the playlist duration plus a segment');
  now += 7999;
  await writer.sweep();
  assert.ok((await segmentFiles(dir)).includes('seg-0.ts'));
  now += 1;
  await writer.sweep();
  assert.deepEqual(await segmentFiles(dir), ['seg-1.ts', 'seg-2.ts', 'seg-3.ts']);
  assert.ok(!(await readdir(dir)).some((name) => name.includes('.tmp-')), 'no temporary playlist left behind');
});

it('carries on after a restart: numbering continues, a discontinuity marks the new run, stray old segments are scheduled for deletion', async () => {
  const dir = join(work, 'restart');
  const staging = join(work, 'restart-staging');
  await Promise.all([mkdir(dir), mkdir(staging)]);
  let now = Date.UTC(2026, 11, 3, 11, 0, 0);
  const first = await openLiveRenditionWriter({ dir, targetDuration: 2, windowSize: 3, clock: () => now });
  for (let i = 0; i < 5; i++) {
    now += 2000;
    await first.publish(await finishedSegment(staging), 2000);
  }
  // The first run died before deleting seg-0 and seg-1.
  now += 30_000;
  const second = await openLiveRenditionWriter({ dir, targetDuration: 2, windowSize: 3, clock: () => now });
  assert.deepEqual(second.window().segments.map((segment) => segment.msn), [2, 3, 4]);
  assert.deepEqual([...second.pendingDeletions().keys()].sort(), ['seg-0.ts', 'seg-1.ts']);
  now += 2000;
  const entry = await second.publish(await finishedSegment(staging), 2000);
  assert.equal(entry.msn, 5);
  assert.equal(entry.discontinuity, true);
  const playlist = await readFile(join(dir, PLAYLIST_NAME), 'utf8');
  assert.match(playlist, /seg-4\.ts\n#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:[^\n]+\n#EXTINF:2\.000,\nseg-5\.ts\n$/);
  now += 2000;
  assert.equal((await second.publish(await finishedSegment(staging), 2000)).discontinuity, false, 'only the first segment of a run');
});

it('never reuses a number when the playlist was lost but segments remain', async () => {
  const dir = join(work, 'lost');
  await mkdir(dir);
  await writeFile(join(dir, 'seg-41.ts'), 'old');
  const writer = await openLiveRenditionWriter({ dir, targetDuration: 2, windowSize: 3 });
  assert.equal((await writer.publish(await finishedSegment(work), 2000)).msn, 42);
  assert.ok(writer.pendingDeletions().has('seg-41.ts'));
});

it('refuses to carry on from a playlist it cannot read as its own', async () => {
  const dir = join(work, 'foreign');
  await mkdir(dir);
  await writeFile(join(dir, PLAYLIST_NAME), '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nfoo.ts\n');
  await assert.rejects(openLiveRenditionWriter({ dir, targetDuration: 2, windowSize: 3 }), /MEDIA-SEQUENCE/);
});

it('dates segments contiguously within a run, whenever they are published, or as the encoder says', async () => {
  const dir = join(work, 'dates');
  await mkdir(dir);
  let now = Date.UTC(2026, 11, 3, 12, 0, 0);
  const writer = await openLiveRenditionWriter({ dir, targetDuration: 2, windowSize: 5, clock: () => now });
  const starts: number[] = [];
  for (const lateBy of [0, 180, 40, 199]) {
    now += 2000 + lateBy;
    starts.push((await writer.publish(await finishedSegment(work), 2000)).programDateTimeMs);
  }
  const first = Date.UTC(2026, 11, 3, 12, 0, 0);
  assert.deepEqual(starts, [first, first + 2000, first + 4000, first + 6000], 'publishing late does not move a segment on the timeline');
  assert.equal((await writer.publish(await finishedSegment(work), 2000, first + 8000 + 7)).programDateTimeMs, first + 8007, 'the encoder\'s date wins');
});

it('Low-Latency: each part is a file before the playlist names it, a segment is its parts concatenated, evicted parts go with their segment', async () => {
  const dir = join(work, 'parts');
  await mkdir(dir);
  let now = Date.UTC(2026, 11, 3, 10, 0, 0);
  const writer = await openLiveRenditionWriter({ dir, targetDuration: 1, windowSize: 2, partTargetMs: 500, clock: () => now });
  await writer.publishInit(Buffer.from('init'));
  // Keyframes every 1 s: parts of 500 ms, the independent ones at whole seconds.
  for (let i = 0; i < 7; i++) {
    now += 500;
    const part = await writer.publishPart(Buffer.from(`p${i}`), { startMs: i * 500, durationMs: 500, independent: i % 2 === 0 }, now - 500);
    assert.equal(part.uri, `seg-${Math.floor(i / 2)}.${i % 2}.m4s`);
    assert.match(await readFile(join(dir, PLAYLIST_NAME), 'utf8'), new RegExp(`URI="${part.uri.replace(/\./g, '\\.')}"`));
  }
  assert.equal(await readFile(join(dir, 'init.mp4'), 'utf8'), 'init');
  assert.equal(await readFile(join(dir, 'seg-2.m4s'), 'utf8'), 'p4p5');
  const playlist = await readFile(join(dir, PLAYLIST_NAME), 'utf8');
  assert.deepEqual(playlist.split('\n').filter((line) => line.startsWith('seg-')), ['seg-1.m4s', 'seg-2.m4s']);
  assert.match(playlist, /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-3\.1\.m4s"\n$/);
  assert.deepEqual([...writer.pendingDeletions().keys()].sort(), ['seg-0.0.m4s', 'seg-0.1.m4s', 'seg-0.m4s']);
  // An independent part (a keyframe) less than a target duration into a segment does not close it.
  now += 500;
  assert.equal((await writer.publishPart(Buffer.from('keyframe'), { startMs: 3500, durationMs: 500, independent: true }, now)).uri, 'seg-3.1.m4s');

  // A plain encoder taking over the directory carries the numbering on, after every part and segment file.
  const plain = await openLiveRenditionWriter({ dir, targetDuration: 1, windowSize: 2, clock: () => now });
  const staged = join(work, 'parts-staged.ts');
  await writeFile(staged, 'ts');
  assert.equal((await plain.publish(staged, 1000)).uri, 'seg-4.ts');
  assert.ok(plain.pendingDeletions().has('seg-3.1.m4s'), 'unlisted parts are deleted after the grace period');
});
