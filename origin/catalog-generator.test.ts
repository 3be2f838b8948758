import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ASSET_MARKER, generateCatalog } from './catalog-generator.js';
import { withDirectoryLock } from './directory-lock.js';
import { avcCodecFromInitSegment, avcCodecFromTransportStream } from './h264-codec-string.js';
import { parseMediaPlaylist } from './media-playlist.js';
import { ensureTestCatalog, TEST_CATALOG_SECONDS } from './test/catalog-fixture.js';

const run = promisify(execFile);

function variantsOf(master: string): { attributes: Record<string, string>; uri: string }[] {
  const lines = master.trim().split('\n');
  assert.equal(lines[0], '#EXTM3U');
  const variants = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('#EXT-X-STREAM-INF:')) continue;
    const attributes: Record<string, string> = {};
    for (const match of lines[i]!.slice('#EXT-X-STREAM-INF:'.length).matchAll(/([A-Z-]+)=("[^"]*"|[^,]*)/g)) {
      attributes[match[1]!] = match[2]!.replace(/^"|"$/g, '');
    }
    variants.push({ attributes, uri: lines[i + 1]! });
  }
  return variants;
}

async function probe(file: string): Promise<{ profile: string; level: number }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=profile,level', '-of', 'json', file]);
  const stream = (JSON.parse(stdout) as { streams: { profile: string; level: number }[] }).streams[0]!;
  return stream;
}

test('the test catalog holds real multi-bitrate HLS for both segment formats', async () => {
  const dir = await ensureTestCatalog();
  assert.equal(await ensureTestCatalog(), dir, 'a second call reuses the same catalog');
  for (const [asset, extension] of [['demo-ts', '.ts'], ['demo-fmp4', '.m4s']] as const) {
    const master = await readFile(join(dir, 'vod', asset, 'master.m3u8'), 'utf8');
    const variants = variantsOf(master);
    assert.deepEqual(variants.map((v) => v.uri), ['240p/index.m3u8', '480p/index.m3u8', '720p/index.m3u8']);
    for (const { attributes, uri } of variants) {
      const bandwidth = Number(attributes.BANDWIDTH);
      assert.ok(bandwidth >= Number(attributes['AVERAGE-BANDWIDTH']) && Number(attributes['AVERAGE-BANDWIDTH']) > 50_000, master);
      assert.match(attributes.RESOLUTION!, /^\d+x(240|480|720)$/);
      assert.match(attributes.CODECS!, /^avc1\.64[0-9a-f]{4},mp4a\.40\.2$/);

      const renditionDir = join(dir, 'vod', asset, uri.replace('/index.m3u8', ''));
      const playlist = parseMediaPlaylist(await readFile(join(renditionDir, 'index.m3u8'), 'utf8'));
      assert.ok(playlist.endList);
      assert.equal(playlist.targetDuration, 2);
      assert.equal(playlist.segments.reduce((sum, s) => sum + s.durationMs, 0), TEST_CATALOG_SECONDS * 1000);
      for (const segment of playlist.segments) {
        assert.ok(segment.uri.endsWith(extension), segment.uri);
        assert.ok((await stat(join(renditionDir, segment.uri))).size > 1000);
      }
      const firstSegment = join(renditionDir, playlist.segments[0]!.uri);
      let codec: string;
      if (asset === 'demo-fmp4') {
        assert.equal(playlist.mapUri, 'init.mp4');
        const init = await readFile(join(renditionDir, 'init.mp4'));
        assert.equal(init.subarray(4, 8).toString('latin1'), 'ftyp');
        codec = avcCodecFromInitSegment(init);
      } else {
        assert.equal(playlist.mapUri, undefined);
        const ts = await readFile(firstSegment);
        assert.equal(ts.length % 188, 0);
        codec = avcCodecFromTransportStream(ts);
      }
      assert.equal(attributes.CODECS!.split(',')[0], codec);
      // The CODECS attribute must agree with what ffprobe reads from the stream itself.
      const { profile, level } = await probe(asset === 'demo-fmp4' ? join(renditionDir, 'index.m3u8') : firstSegment);
      assert.equal(profile, 'High');
      assert.equal(codec, `avc1.6400${level.toString(16).padStart(2, '0')}`);
    }
  }
});

test('generateCatalog skips finished assets and redoes an asset whose marker is missing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'streamedge-generate-'));
  try {
    const options = { dir, durationSeconds: 2, renditions: ['240p'], assets: ['demo-ts'] };
    const first = await generateCatalog(options);
    assert.equal(first.assets[0]!.skipped, false);
    const states: string[] = [];
    const second = await generateCatalog({ ...options, onProgress: (p) => states.push(p.state) });
    assert.equal(second.assets[0]!.skipped, true);
    assert.deepEqual(states, ['skipped']);

    await unlink(join(dir, 'vod', 'demo-ts', ASSET_MARKER)); // as if the run died before the marker
    const third = await generateCatalog(options);
    assert.equal(third.assets[0]!.skipped, false);
    assert.ok((await stat(join(dir, 'vod', 'demo-ts', ASSET_MARKER))).isFile());
    await assert.rejects(stat(join(dir, '.build')), 'no build leftovers');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('two runs into one directory take turns: the asset is encoded once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'streamedge-generate-'));
  try {
    const options = { dir, durationSeconds: 2, renditions: ['240p'], assets: ['demo-ts'] };
    const results = await Promise.all([generateCatalog(options), generateCatalog(options)]);
    assert.deepEqual(results.map((r) => r.assets[0]!.skipped).sort(), [false, true]);
    assert.deepEqual(await readdir(dir), ['vod']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a lock left by a dead process is broken; a live holder is waited for', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'streamedge-lock-'));
  try {
    const lock = join(dir, 'asset.lock');
    const dead = spawn(process.execPath, ['-e', '']);
    await once(dead, 'exit');
    await mkdir(lock);
    await writeFile(join(lock, 'pid'), String(dead.pid));
    assert.equal(await withDirectoryLock(lock, async () => 'took over', 20), 'took over');
    await assert.rejects(stat(lock), 'released');

    const order: string[] = [];
    let release!: () => void;
    const holder = withDirectoryLock(lock, () => new Promise<void>((resolve) => (release = () => (order.push('first'), resolve()))), 20);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const waiter = withDirectoryLock(lock, async () => void order.push('second'), 20);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(order, [], 'the second waits while the first holds the lock');
    release();
    await Promise.all([holder, waiter]);
    assert.deepEqual(order, ['first', 'second']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('generateCatalog rejects bad options before running ffmpeg', async () => {
  await assert.rejects(generateCatalog({ dir: '' }), /dir/);
  await assert.rejects(generateCatalog({ dir: '/tmp/x', durationSeconds: 0.5 }), /durationSeconds/);
  await assert.rejects(generateCatalog({ dir: '/tmp/x', renditions: ['4k'] }), /unknown rendition "4k"/);
  await assert.rejects(generateCatalog({ dir: '/tmp/x', assets: ['nope'] }), /unknown asset "nope"/);
});
