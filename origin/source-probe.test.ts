import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseProbe, SourceError } from './source-probe.js';

const video = { codec_type: 'video', width: 1920, height: 1080, avg_frame_rate: '30000/1001', r_frame_rate: '30000/1001', sample_aspect_ratio: '1:1', start_time: '0.040000' };
const audio = (language?: string, title?: string) => ({ codec_type: 'audio', channels: 2, tags: { ...(language ? { language } : {}), ...(title ? { title } : {}) } });
const probe = (streams: unknown[], duration: unknown = '12.5') => ({ streams, format: { duration, start_time: '0.000000' } });

describe('parseProbe (ffprobe JSON is external input)', () => {
  it('reads the picture, duration, audio and subtitle tracks in file order', () => {
    const parsed = parseProbe(
      probe([video, audio('eng', 'Director'), audio('fra'), { codec_type: 'subtitle', codec_name: 'subrip', tags: { language: 'deu' } }, { codec_type: 'subtitle', codec_name: 'hdmv_pgs_subtitle' }]),
    );
    assert.equal(parsed.durationSeconds, 12.5);
    assert.deepEqual({ ...parsed.video, frameRate: Number(parsed.video.frameRate.toFixed(3)) }, { index: 0, width: 1920, height: 1080, frameRate: 29.97, displayAspect: 1920 / 1080, startSeconds: 0.04 });
    assert.deepEqual(parsed.audio, [
      { index: 0, language: 'eng', title: 'Director', channels: 2 },
      { index: 1, language: 'fra', title: undefined, channels: 2 },
    ]);
    assert.deepEqual(parsed.subtitles.map((s) => [s.index, s.language, s.isText]), [[0, 'deu', true], [1, undefined, false]]);
  });

  it('skips cover art, applies the sample aspect ratio, and falls back to the longest stream for the duration', () => {
    const cover = { ...video, width: 600, height: 600, disposition: { attached_pic: 1 } };
    const anamorphic = { ...video, width: 720, height: 576, sample_aspect_ratio: '64:45', avg_frame_rate: '0/0', r_frame_rate: '25/1', duration: '9.0' };
    const parsed = parseProbe(probe([cover, anamorphic], 'N/A'));
    assert.equal(parsed.video.index, 1);
    assert.equal(parsed.video.frameRate, 25);
    assert.ok(Math.abs(parsed.video.displayAspect - 16 / 9) < 0.01);
    assert.equal(parsed.durationSeconds, 9);
  });

  const bad: [string, unknown, RegExp][] = [
    ['not JSON of an object', 'garbage', /not a media file/],
    ['no streams array', { format: {} }, /not a media file/],
    ['no video (a text file ffprobe half-reads)', probe([]), /not a video/],
    ['audio only', probe([audio('eng')]), /audio only/],
    ['zero duration', probe([video], '0.000000'), /zero duration/],
    ['no duration at all', probe([video], null), /zero duration/],
    ['a picture without size', probe([{ ...video, width: 0 }]), /picture size/],
    ['a picture without frame rate', probe([{ ...video, avg_frame_rate: '0/0', r_frame_rate: '0/0' }]), /frame rate/],
  ];
  for (const [name, json, message] of bad) {
    it(`refuses ${name}`, () => assert.throws(() => parseProbe(json), (error: unknown) => error instanceof SourceError && message.test(error.message)));
  }
});
