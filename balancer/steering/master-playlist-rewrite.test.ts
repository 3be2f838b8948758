import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ContentSteeringController, Events, Level, M3U8Parser } from 'hls.js';
import { renderMasterPlaylist } from '../../origin/master-playlist.js';
import { PlaylistError, rewriteMasterPlaylist, type SteeringPathway } from './master-playlist-rewrite.js';
import { buildSteeringManifest } from './steering-manifest.js';

// The origin's own master playlist, as an edge would pass it on.
const ORIGIN_MASTER = renderMasterPlaylist([
  { uri: '240p/index.m3u8', bandwidth: 400_000, averageBandwidth: 350_000, width: 426, height: 240, frameRate: 30, codecs: 'avc1.64001e,mp4a.40.2' },
  { uri: '480p/index.m3u8', bandwidth: 1_200_000, averageBandwidth: 1_000_000, width: 854, height: 480, frameRate: 30, codecs: 'avc1.64001f,mp4a.40.2' },
  { uri: '720p/index.m3u8', bandwidth: 2_800_000, averageBandwidth: 2_500_000, width: 1280, height: 720, frameRate: 30, codecs: 'avc1.64001f,mp4a.40.2' },
]);
const PATHWAYS: SteeringPathway[] = [
  { id: 'edge-2', baseUrl: 'http://127.0.0.1:8082' },
  { id: 'edge-1', baseUrl: 'http://127.0.0.1:8081' },
  { id: 'edge-3', baseUrl: 'https://eu.edge.example/cdn' },
];
const BALANCER_MASTER_URL = 'http://127.0.0.1:8080/vod/demo-ts/master.m3u8';

function rewrite(master = ORIGIN_MASTER, pathways = PATHWAYS): string {
  return rewriteMasterPlaylist({ master, masterPath: '/vod/demo-ts/master.m3u8', pathways, steeringUri: '/steering/vod/demo-ts?session=abcdefghijklmnop' });
}

/** A minimal stand-in for the Hls instance, enough for hls.js's own ContentSteeringController. */
function steeringController(levels: Level[]) {
  const handlers = new Map<string, (event: string, data: unknown) => void>();
  const triggered: { event: string; data: { levels?: Level[] } }[] = [];
  const quiet = () => {};
  const hls = {
    on: (event: string, handler: (event: string, data: unknown) => void, context: unknown) => handlers.set(event, handler.bind(context)),
    off: quiet,
    trigger: (event: string, data: { levels?: Level[] }) => triggered.push({ event, data }),
    logger: { trace: quiet, debug: quiet, log: quiet, info: quiet, warn: quiet, error: quiet },
    config: {},
    levels,
    nextLoadLevel: 0,
  };
  const controller = new ContentSteeringController(hls as never);
  return { controller, handlers, triggered };
}

describe('rewriteMasterPlaylist, checked with the real hls.js parser', () => {
  const text = rewrite();
  const parsed = M3U8Parser.parseMasterPlaylist(text, BALANCER_MASTER_URL);

  it('names the steering server (resolved against the balancer) and the best edge', () => {
    assert.deepEqual(parsed.contentSteering, { uri: 'http://127.0.0.1:8080/steering/vod/demo-ts?session=abcdefghijklmnop', pathwayId: 'edge-2' });
    assert.equal(parsed.playlistParsingError, null);
  });

  it('gives every pathway every variant, with absolute URIs on that edge', () => {
    assert.equal(parsed.levels.length, 9);
    for (const pathway of PATHWAYS) {
      const levels = parsed.levels.filter((level) => level.attrs['PATHWAY-ID'] === pathway.id);
      assert.deepEqual(
        levels.map((level) => level.url),
        ['240p', '480p', '720p'].map((rendition) => `${pathway.baseUrl}/vod/demo-ts/${rendition}/index.m3u8`),
      );
      assert.deepEqual(levels.map((level) => level.bitrate), [400_000, 1_200_000, 2_800_000]);
    }
  });

  it('keeps STABLE-VARIANT-ID equal across pathways so a player keeps its quality when it moves', () => {
    const ids = (pathwayId: string) => parsed.levels.filter((level) => level.attrs['PATHWAY-ID'] === pathwayId).map((level) => level.attrs['STABLE-VARIANT-ID']);
    assert.deepEqual(ids('edge-1'), ids('edge-3'));
    assert.equal(new Set(ids('edge-1')).size, 3);
  });

  it('lets hls.js see every pathway, start on the best, and follow a steering manifest', () => {
    const levels = parsed.levels.map((level) => new Level(level));
    const { controller, handlers, triggered } = steeringController(levels);
    handlers.get(Events.MANIFEST_LOADED)!(Events.MANIFEST_LOADED, { contentSteering: parsed.contentSteering });
    const initial = controller.filterParsedLevels(levels);
    assert.deepEqual(controller.pathways(), ['edge-2', 'edge-1', 'edge-3']);
    assert.ok(initial.every((level) => level.pathwayId === 'edge-2'));

    const manifest = buildSteeringManifest(['edge-3', 'edge-1'], 10, '/steering/vod/demo-ts?session=abcdefghijklmnop');
    controller.pathwayPriority = [...manifest['PATHWAY-PRIORITY']];
    const update = triggered.find((entry) => entry.event === Events.LEVELS_UPDATED);
    assert.ok(update, 'hls.js switched levels after the new priority');
    assert.equal(update.data.levels!.length, 3);
    assert.ok(update.data.levels!.every((level) => level.uri.startsWith('https://eu.edge.example/cdn/vod/demo-ts/')));
  });

  it('gives each pathway its own rendition groups', () => {
    const master = [
      '#EXTM3U',
      '#EXT-X-VERSION:6',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,URI="audio/en.m3u8"',
      '#EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS="avc1.64001f,mp4a.40.2",AUDIO="aac"',
      'video/480p.m3u8',
      '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI="video/iframes.m3u8"',
    ].join('\n');
    const rewritten = rewrite(master, PATHWAYS.slice(0, 2));
    const parsedMaster = M3U8Parser.parseMasterPlaylist(rewritten, BALANCER_MASTER_URL);
    const media = M3U8Parser.parseMasterPlaylistMedia(rewritten, BALANCER_MASTER_URL, parsedMaster);
    assert.deepEqual(
      media.AUDIO!.map((track) => [track.groupId, track.url]),
      [
        ['aac@edge-2', 'http://127.0.0.1:8082/vod/demo-ts/audio/en.m3u8'],
        ['aac@edge-1', 'http://127.0.0.1:8081/vod/demo-ts/audio/en.m3u8'],
      ],
    );
    assert.deepEqual(parsedMaster.levels.map((level) => level.attrs.AUDIO), ['aac@edge-2', 'aac@edge-1']);
    assert.equal(parsedMaster.iframeVariants?.length, 2);
  });

  it('gives each pathway its own audio and subtitle groups for a packaged multi-language asset', () => {
    const packaged = renderMasterPlaylist(
      [
        { uri: '240p/index.m3u8', bandwidth: 500_000, averageBandwidth: 450_000, width: 426, height: 240, frameRate: 25, codecs: 'avc1.640015,mp4a.40.2' },
        { uri: '480p/index.m3u8', bandwidth: 1_300_000, averageBandwidth: 1_100_000, width: 854, height: 480, frameRate: 25, codecs: 'avc1.64001f,mp4a.40.2' },
      ],
      {
        media: [
          { type: 'AUDIO', groupId: 'audio', name: 'English', language: 'en', isDefault: true, channels: 2, uri: 'audio-1/index.m3u8' },
          { type: 'AUDIO', groupId: 'audio', name: 'French', language: 'fr', isDefault: false, channels: 2, uri: 'audio-2/index.m3u8' },
          { type: 'SUBTITLES', groupId: 'subtitles', name: 'French', language: 'fr', isDefault: false, uri: 'subtitles-1/index.m3u8' },
        ],
      },
    );
    const rewritten = rewrite(packaged);
    const parsedMaster = M3U8Parser.parseMasterPlaylist(rewritten, BALANCER_MASTER_URL);
    assert.equal(parsedMaster.playlistParsingError, null);
    const media = M3U8Parser.parseMasterPlaylistMedia(rewritten, BALANCER_MASTER_URL, parsedMaster);
    for (const pathway of PATHWAYS) {
      const base = `${pathway.baseUrl}/vod/demo-ts`;
      assert.deepEqual(
        media.AUDIO!.filter((track) => track.groupId === `audio@${pathway.id}`).map((track) => [track.name, track.lang, track.url]),
        [
          ['English', 'en', `${base}/audio-1/index.m3u8`],
          ['French', 'fr', `${base}/audio-2/index.m3u8`],
        ],
      );
      assert.deepEqual(
        media.SUBTITLES!.filter((track) => track.groupId === `subtitles@${pathway.id}`).map((track) => [track.name, track.lang, track.url]),
        [['French', 'fr', `${base}/subtitles-1/index.m3u8`]],
      );
      const levels = parsedMaster.levels.filter((level) => level.attrs['PATHWAY-ID'] === pathway.id);
      assert.equal(levels.length, 2);
      for (const level of levels) {
        assert.deepEqual([level.attrs.AUDIO, level.attrs.SUBTITLES], [`audio@${pathway.id}`, `subtitles@${pathway.id}`]);
        assert.ok(level.url.startsWith(`${base}/`));
      }
    }
    assert.equal(media.AUDIO!.length, 2 * PATHWAYS.length);
    assert.equal(media.SUBTITLES!.length, PATHWAYS.length);
  });

  it('replaces an existing steering tag and PATHWAY-IDs, and moves absolute URIs onto the edge', () => {
    const master = [
      '#EXTM3U',
      '#EXT-X-CONTENT-STEERING:SERVER-URI="https://elsewhere.example/steer"',
      '#EXT-X-STREAM-INF:BANDWIDTH=800000,PATHWAY-ID="old"',
      'http://origin.internal:8091/vod/demo-ts/480p/index.m3u8?v=2',
    ].join('\r\n');
    const rewritten = rewrite(master, PATHWAYS.slice(0, 1));
    assert.equal(rewritten.match(/EXT-X-CONTENT-STEERING/g)?.length, 1);
    assert.ok(!rewritten.includes('elsewhere.example') && !rewritten.includes('"old"'));
    assert.ok(rewritten.includes('\nhttp://127.0.0.1:8082/vod/demo-ts/480p/index.m3u8?v=2\n'));
  });

  const bad: [string, string, RegExp][] = [
    ['not a playlist', '<html>', /no #EXTM3U/],
    ['a media playlist', '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg.ts', /media playlist/],
    ['no variants', '#EXTM3U\n#EXT-X-VERSION:6', /no variant/],
    ['a dangling STREAM-INF', '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1', /not followed by its URI/],
    ['a URI without STREAM-INF', '#EXTM3U\nfoo.m3u8', /without EXT-X-STREAM-INF/],
    ['a broken attribute list', '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,"oops\nx.m3u8', /malformed attribute list/],
    ['a javascript: URI', '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\njavascript:alert(1)', /unsupported URI scheme/],
  ];
  for (const [name, master, message] of bad) {
    it(`refuses ${name}`, () => assert.throws(() => rewrite(master), (error: unknown) => error instanceof PlaylistError && message.test(error.message)));
  }
  it('carries a signed URL\'s token into every variant and rendition URI of every pathway', () => {
    const token = 'st=abc&exp=1&pfx=%2Fvod%2Fdemo-ts%2F&kid=k1';
    const master = ['#EXTM3U', '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",URI="audio/en/index.m3u8"', '#EXT-X-STREAM-INF:BANDWIDTH=800000,AUDIO="aud"', `480p/index.m3u8?${token}`, ''].join('\n');
    const out = rewriteMasterPlaylist({ master, masterPath: '/vod/demo-ts/master.m3u8', pathways: PATHWAYS, steeringUri: '/steering/vod/demo-ts?session=abcdefghijklmnop', childQuery: token });
    const uris = [...out.matchAll(/URI="([^"]+)"|^(http[^\n]+)$/gm)].map((match) => match[1] ?? match[2]!).filter((uri) => !uri.startsWith('/steering/'));
    assert.equal(uris.length, 2 * PATHWAYS.length);
    // Once each, even where the edge had already put it on.
    for (const uri of uris) assert.ok(uri.endsWith(`?${token}`), uri);
  });

  it('refuses to rewrite without a pathway', () => assert.throws(() => rewrite(ORIGIN_MASTER, []), PlaylistError));
});
