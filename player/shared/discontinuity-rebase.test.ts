import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DiscontinuityRebaser, discontinuitySequenceOf } from './discontinuity-rebase.js';

const live = (sequence: number): string =>
  ['#EXTM3U', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:897659144', `#EXT-X-DISCONTINUITY-SEQUENCE:${sequence}`, '#EXTINF:2.000,', 'seg-897659144.ts', ''].join('\n');

describe('DiscontinuityRebaser', () => {
  it('shifts every playlist of a session by the same amount, keeping numbers small', () => {
    const rebaser = new DiscontinuityRebaser();
    assert.equal(discontinuitySequenceOf(rebaser.rewrite(live(149609857))), 1000);
    assert.equal(discontinuitySequenceOf(rebaser.rewrite(live(149609858))), 1001);
    assert.equal(discontinuitySequenceOf(rebaser.rewrite(live(149609856))), 999, 'an older playlist from another edge stays aligned');
  });

  it('changes only the tag line', () => {
    const rebased = new DiscontinuityRebaser().rewrite(live(149609857));
    assert.equal(rebased, live(149609857).replace('SEQUENCE:149609857', 'SEQUENCE:1000'));
  });

  it('leaves small sequences, playlists without the tag and far older playlists alone', () => {
    const rebaser = new DiscontinuityRebaser();
    assert.equal(rebaser.rewrite(live(7)), live(7));
    const master = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n240p/index.m3u8\n';
    assert.equal(rebaser.rewrite(master), master);
    const session = new DiscontinuityRebaser();
    session.rewrite(live(5000));
    assert.equal(session.rewrite(live(3000)), live(3000));
  });

  it('reads the sequence only from a well-formed tag', () => {
    assert.equal(discontinuitySequenceOf(live(42)), 42);
    assert.equal(discontinuitySequenceOf('#EXTM3U\n#EXT-X-DISCONTINUITY-SEQUENCE:-3\n'), null);
    assert.equal(discontinuitySequenceOf('#EXTM3U\n#EXT-X-DISCONTINUITY-SEQUENCE:12abc\n'), null);
  });
});
