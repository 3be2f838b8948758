import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseLadder } from './package-ladder.js';
import type { VideoTrack } from './source-probe.js';

const source = (width: number, height: number, displayAspect = width / height): VideoTrack => ({ index: 0, width, height, frameRate: 25, displayAspect, startSeconds: 0 });
const rungs = (video: VideoTrack, renditions?: string[]) => chooseLadder(video, { renditions }).map((rung) => `${rung.name} ${rung.width}x${rung.height}`);

describe('chooseLadder never upscales', () => {
  const table: [string, VideoTrack, string[]][] = [
    ['a 4K source gets the whole default ladder', source(3840, 2160), ['240p 426x240', '480p 854x480', '720p 1280x720', '1080p 1920x1080']],
    ['a 1080p source gets the whole default ladder', source(1920, 1080), ['240p 426x240', '480p 854x480', '720p 1280x720', '1080p 1920x1080']],
    ['a 720p source stops at 720p', source(1280, 720), ['240p 426x240', '480p 854x480', '720p 1280x720']],
    ['a 576p source stops at 480p', source(1024, 576), ['240p 426x240', '480p 854x480']],
    ['a 4:3 source keeps its shape', source(640, 480), ['240p 320x240', '480p 640x480']],
    ['an anamorphic source is widened to its display shape', source(720, 576, 16 / 9), ['240p 426x240', '480p 854x480']],
    ['a source below the lowest rung is kept at its own size', source(320, 180), ['180p 320x180']],
    ['an odd-sized tiny source gets even dimensions', source(175, 99), ['100p 176x100']],
  ];
  for (const [name, video, expected] of table) it(name, () => assert.deepEqual(rungs(video), expected));

  it('keeps only the rungs asked for, still never above the source', () => {
    assert.deepEqual(rungs(source(1280, 720), ['240p', '1080p']), ['240p 426x240']);
    assert.deepEqual(rungs(source(320, 180), ['480p']), ['180p 320x180']);
  });

  it('gives a tiny source a bit rate scaled by area, with a floor', () => {
    const [rung] = chooseLadder(source(320, 180));
    assert.ok(rung!.videoBitrate >= 100_000 && rung!.videoBitrate < 400_000, String(rung!.videoBitrate));
  });

  it('refuses an unknown rung name', () => assert.throws(() => chooseLadder(source(1920, 1080), { renditions: ['4k'] }), /unknown rendition "4k"/));
});
