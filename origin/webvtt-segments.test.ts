import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWebVtt, segmentWebVtt, WebVttError } from './webvtt-segments.js';

const FILE = ['\uFEFFWEBVTT - subtitles', '', 'NOTE a comment', '', 'STYLE', '::cue { color: lime }', '', 'intro', '00:00.500 --> 00:01.800 align:start', 'Hello', 'world', '', '00:00:01.900 --> 00:00:04.500', 'Across a boundary', ''].join('\r\n');

describe('WebVTT for HLS', () => {
  it('parses cues with ids, settings, multi-line text; drops NOTE and STYLE', () => {
    assert.deepEqual(parseWebVtt(FILE), [
      { startMs: 500, endMs: 1800, settings: 'align:start', text: 'Hello\nworld' },
      { startMs: 1900, endMs: 4500, settings: '', text: 'Across a boundary' },
    ]);
  });

  it('cuts segments covering the whole duration, a spanning cue in each segment it touches', () => {
    const { playlist, segments } = segmentWebVtt(parseWebVtt(FILE), { segmentSeconds: 2, durationSeconds: 5, mpegTsOffset: 126_000 });
    assert.deepEqual(segments.map((s) => s.name), ['seg-00000.vtt', 'seg-00001.vtt', 'seg-00002.vtt']);
    for (const segment of segments) assert.ok(segment.text.startsWith('WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n'));
    assert.equal(segments[0]!.text.match(/-->/g)?.length, 2);
    assert.ok(segments[1]!.text.includes('00:00:01.900 --> 00:00:04.500\nAcross a boundary'));
    assert.ok(segments[2]!.text.includes('Across a boundary'));
    assert.ok(segments[0]!.text.includes('\n\n00:00:01.900'), 'cues are separated by a blank line');
    assert.match(playlist, /#EXT-X-TARGETDURATION:2\n/);
    assert.deepEqual(playlist.match(/#EXTINF:[\d.]+/g), ['#EXTINF:2.000', '#EXTINF:2.000', '#EXTINF:1.000']);
    assert.ok(playlist.trimEnd().endsWith('#EXT-X-ENDLIST'));
  });

  const bad: [string, string][] = [
    ['a file without the WEBVTT signature', '1\n00:00:01,000 --> 00:00:02,000\nSRT'],
    ['a cue with a bad timestamp', 'WEBVTT\n\n00:00:01,000 --> 00:00:02,000\nSRT commas'],
    ['a cue ending before it starts', 'WEBVTT\n\n00:00:03.000 --> 00:00:02.000\nbackwards'],
  ];
  for (const [name, text] of bad) it(`refuses ${name}`, () => assert.throws(() => parseWebVtt(text), WebVttError));
});
