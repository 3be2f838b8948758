import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { HlsDirectoryError, parseMasterReferences, resolveInside, validateHlsDirectory } from './hls-directory.js';

const MASTER = [
  '#EXTM3U',
  '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="English",LANGUAGE="en",URI="audio/en.m3u8"',
  '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="s",NAME="Français",LANGUAGE="fr",URI="subs/fr.m3u8"',
  '#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="CC",INSTREAM-ID="CC1"',
  '#EXT-X-STREAM-INF:BANDWIDTH=800000,AUDIO="a",SUBTITLES="s"',
  'video/index.m3u8',
].join('\n');
const media = (segments: string[], extra: string[] = []) =>
  ['#EXTM3U', '#EXT-X-TARGETDURATION:2', ...extra, ...segments.flatMap((uri) => ['#EXTINF:2.0,', uri]), '#EXT-X-ENDLIST'].join('\n');

const root = await mkdtemp(join(tmpdir(), 'streamedge-hls-import-'));
after(() => rm(root, { recursive: true, force: true }));

async function hlsDir(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(root, name);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

const GOOD: Record<string, string> = {
  'master.m3u8': MASTER,
  'video/index.m3u8': media(['seg-0.m4s', 'seg-1.m4s'], ['#EXT-X-MAP:URI="init.mp4"']),
  'video/init.mp4': 'i',
  'video/seg-0.m4s': 'v0',
  'video/seg-1.m4s': 'v1',
  'audio/en.m3u8': media(['../audio/en-0.ts']),
  'audio/en-0.ts': 'a0',
  'subs/fr.m3u8': media(['fr-0.vtt']),
  'subs/fr-0.vtt': 'WEBVTT\n',
  'notes.txt': 'not referenced, not imported',
};

describe('HLS directory import checks', () => {
  it('lists the playlists a master names (variants, audio and subtitle renditions, not closed captions)', () => {
    assert.deepEqual(parseMasterReferences(MASTER), { playlists: ['audio/en.m3u8', 'subs/fr.m3u8', 'video/index.m3u8'], variants: 1, audio: 1, subtitles: 1 });
  });

  const uris: [string, string, string | RegExp][] = [
    ['master.m3u8', 'video/index.m3u8', 'video/index.m3u8'],
    ['audio/en.m3u8', '../audio/en-0.ts', 'audio/en-0.ts'],
    ['audio/en.m3u8', 'seg%2D1.ts', 'audio/seg-1.ts'],
    ['master.m3u8', '../outside.m3u8', /escapes the directory/],
    ['audio/en.m3u8', '../../etc/passwd.ts', /escapes the directory/],
    ['master.m3u8', '/abs/index.m3u8', /not a relative path/],
    ['master.m3u8', 'https://cdn.example/x.m3u8', /not a relative path/],
    ['master.m3u8', 'file:index.m3u8', /not a relative path/],
    ['master.m3u8', 'a\\b.m3u8', /not a relative path/],
    ['master.m3u8', 'x.m3u8?token=1', /query or fragment/],
    ['master.m3u8', 'a/b/c/index.m3u8', /not a name the origin serves/],
    ['master.m3u8', '.hidden/index.m3u8', /not a name the origin serves/],
    ['master.m3u8', 'video/index.html', /file type/],
  ];
  for (const [from, uri, expected] of uris) {
    it(`${from}: "${uri}" → ${String(expected)}`, () => {
      if (typeof expected === 'string') assert.equal(resolveInside(from, uri), expected);
      else assert.throws(() => resolveInside(from, uri), (error: unknown) => error instanceof HlsDirectoryError && expected.test(error.message));
    });
  }

  it('accepts a complete directory and lists exactly the files its playlists name', async () => {
    const report = await validateHlsDirectory(await hlsDir('good', GOOD));
    assert.deepEqual([...report.files].sort(), Object.keys(GOOD).filter((path) => path !== 'notes.txt').sort());
    assert.equal(report.format, 'fmp4');
    assert.deepEqual([report.variants, report.audio, report.subtitles, report.durationSeconds], [1, 1, 1, 4]);
  });

  const broken: [string, Record<string, string | null>, RegExp][] = [
    ['no master.m3u8', { 'master.m3u8': null }, /master\.m3u8" does not exist/],
    ['a master that is a media playlist', { 'master.m3u8': media(['video/seg-0.m4s']) }, /is a media playlist/],
    ['a master without variants', { 'master.m3u8': '#EXTM3U\n#EXT-X-VERSION:6\n' }, /no variant streams/],
    ['a missing media playlist', { 'subs/fr.m3u8': null }, /"subs\/fr\.m3u8" does not exist/],
    ['a missing segment', { 'video/seg-1.m4s': null }, /video\/index\.m3u8: "video\/seg-1\.m4s" does not exist/],
    ['a missing init segment', { 'video/init.mp4': null }, /"video\/init\.mp4" does not exist/],
    ['a media playlist that does not parse', { 'audio/en.m3u8': '#EXTM3U\n#EXTINF:2,\n' }, /audio\/en\.m3u8: /],
    ['a live playlist', { 'audio/en.m3u8': media(['en-0.ts']).replace('#EXT-X-ENDLIST', '') }, /not a VOD playlist/],
    ['a segment outside the directory', { 'subs/fr.m3u8': media(['../../secret.vtt']) }, /escapes the directory/],
  ];
  for (const [name, changes, message] of broken) {
    it(`refuses ${name}`, async () => {
      const files = Object.fromEntries(Object.entries({ ...GOOD, ...changes }).filter((entry): entry is [string, string] => entry[1] !== null));
      const dir = await hlsDir(name.replace(/\W+/g, '-'), files);
      await assert.rejects(validateHlsDirectory(dir), (error: unknown) => error instanceof HlsDirectoryError && message.test(error.message));
    });
  }

  it('refuses a symbolic link, which could point anywhere', async () => {
    const dir = await hlsDir('symlink', { ...GOOD, 'video/seg-1.m4s': '' });
    await rm(join(dir, 'video/seg-1.m4s'));
    await symlink('/etc/hostname', join(dir, 'video/seg-1.m4s'));
    await assert.rejects(validateHlsDirectory(dir), /symbolic links are not imported/);
  });

  it('refuses a path that is not a directory', () => assert.rejects(validateHlsDirectory(join(root, 'nothing-here')), /is not a directory/));
});
