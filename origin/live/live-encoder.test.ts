// Real processes: `streamedge live` running ffmpeg in real time, `streamedge origin` serving what it
// writes, ffprobe judging the segments.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { waitFor } from '../../infra/testing/wait-for.js';
import { ffmpegPidOf } from '../../stack/live-encoder-supervisor.js';
import { spawnStreamedge, type StreamedgeProcess } from '../../stack/streamedge-process.js';
import { parseMediaPlaylist } from '../media-playlist.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../stack/cli/streamedge.js', import.meta.url));
const work = await mkdtemp(join(tmpdir(), 'streamedge-live-'));
const processes: StreamedgeProcess[] = [];
after(async () => {
  await Promise.all(processes.map((child) => child.kill()));
  await rm(work, { recursive: true, force: true });
});

// Small and cheap: two small rungs, the fastest x264 preset.
const CHEAP = ['--rendition', '144p', '--rendition', '240p', '--preset', 'ultrafast'];

/** Decode timestamps of one stream (v or a) of an MPEG-TS byte stream, in seconds. */
async function decodeTimes(file: string, stream: 'v' | 'a'): Promise<number[]> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', stream, '-show_entries', 'packet=dts_time', '-of', 'csv=p=0', file], { maxBuffer: 16 * 1024 * 1024 });
  return stdout.split('\n').map((line) => line.replace(/,+$/, '').trim()).filter(Boolean).map(Number);
}

/** Every packet later than the one before, and no hole wider than `maxStep` seconds. */
async function assertContinuous(file: string, label: string): Promise<void> {
  for (const [stream, maxStep] of [['v', 1.5 / 30], ['a', 1.5 * (1024 / 48_000)]] as const) {
    const times = await decodeTimes(file, stream);
    assert.ok(times.length > 30, `${label}: only ${times.length} ${stream} packets`);
    for (let i = 1; i < times.length; i++) {
      const step = times[i]! - times[i - 1]!;
      assert.ok(step > 0 && step <= maxStep + 1e-6, `${label}: ${stream} packet ${i} at ${times[i]} after ${times[i - 1]} (step ${step.toFixed(4)} s)`);
    }
  }
  const decoded = await run('ffmpeg', ['-hide_banner', '-v', 'error', '-i', file, '-f', 'null', '-']);
  assert.equal(decoded.stderr.trim(), '', `${label}: ffmpeg reported decoding errors`);
}

/** Segment URI → its EXT-X-PROGRAM-DATE-TIME and EXTINF, in ms. */
function programDateTimes(playlist: string): Map<string, { startMs: number; durationMs: number }> {
  const dated = new Map<string, { startMs: number; durationMs: number }>();
  for (const match of playlist.matchAll(/^#EXT-X-PROGRAM-DATE-TIME:(\S+)\n#EXTINF:([\d.]+),\n(seg-\d+\.ts)$/gm)) {
    dated.set(match[3]!, { startMs: Date.parse(match[1]!), durationMs: Math.round(Number(match[2]) * 1000) });
  }
  return dated;
}

async function concatenate(files: readonly Buffer[], name: string): Promise<string> {
  const path = join(work, name);
  await writeFile(path, Buffer.concat(files));
  return path;
}

test('bad input ends streamedge live with one clear line and exit code 2, before any encoding', async () => {
  const notVideo = join(work, 'notes.txt');
  await writeFile(notVideo, 'not a video at all\n');
  const cases: [readonly string[], RegExp][] = [
    [['--input', join(work, 'missing.mp4'), '--id', 'x'], /--input: .*missing\.mp4: no such file/],
    [['--input', notVideo, '--id', 'x'], /--input: .*notes\.txt: not a media file ffmpeg can read/],
    [['--input', 'lavfi:nosuchsource=1', '--id', 'x'], /--input: bad lavfi source "nosuchsource=1": No such filter: 'nosuchsource'/],
    [['--input', 'lavfi:testsrc2=size=axb', '--id', 'x'], /--input: bad lavfi source "testsrc2=size=axb": Unable to parse option value "axb"/],
    [['--input', 'lavfi:sine', '--id', 'x'], /--input: lavfi source "sine" makes no video/],
    [['--input', 'lavfi:', '--id', 'x'], /--input: empty lavfi source/],
    [['--input', 'lavfi:testsrc2', '--id', '../etc'], /--id: bad --id "\.\.\/etc"/],
    [['--input', 'lavfi:testsrc2', '--id', 'x', '--rendition', '4k'], /--rendition/],
    [['--id', 'x'], /--input: required/],
  ];
  for (const [args, expected] of cases) {
    const result = await run(process.execPath, [CLI, 'live', '--content', join(work, 'refused'), ...args]).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, expected, args.join(' '));
    assert.equal(result.stderr.trim().split('\n').length, 1, `one line: ${result.stderr}`);
  }
  await assert.rejects(readdir(join(work, 'refused', 'live')), /ENOENT/, 'nothing written for refused input');
});

test('a generated source encodes in real time; the origin serves a moving window of decodable, continuous segments, 503 while ffmpeg is stopped, 200 again once it resumes', { timeout: 120_000 }, async () => {
  const content = join(work, 'generated');
  const encoder = await spawnStreamedge(['live', '--input', 'lavfi:testsrc2=size=320x180:rate=30', '--id', 'clock', '--content', content, ...CHEAP], { readyMessage: 'publishing', startTimeoutMs: 30_000 });
  processes.push(encoder);
  const ffmpegPid = ffmpegPidOf(encoder.output());
  assert.ok(ffmpegPid, encoder.output());
  const origin = await spawnStreamedge(['origin', '--content', content, '--port', '0', '--id', 'live-origin']);
  processes.push(origin);

  const master = await fetch(`${origin.url}/live/clock/master.m3u8`);
  assert.equal(master.status, 200);
  const masterText = await master.text();
  assert.match(masterText, /RESOLUTION=256x144,FRAME-RATE=30\.000,CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"\n144p\/index\.m3u8\n/);
  assert.match(masterText, /RESOLUTION=426x240,[^\n]*\n240p\/index\.m3u8\n/);

  // ~12 s of polling: the window moves on, one segment per target duration, numbers only grow.
  const sequences: number[] = [];
  let text = '';
  const pollUntil = Date.now() + 12_000;
  while (Date.now() < pollUntil) {
    const response = await fetch(`${origin.url}/live/clock/240p/index.m3u8`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'public, max-age=1');
    text = await response.text();
    const playlist = parseMediaPlaylist(text);
    const first = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)![1]);
    assert.deepEqual(playlist.segments.map((segment) => segment.uri), playlist.segments.map((_, i) => `seg-${first + i}.ts`));
    assert.equal(playlist.endList, false);
    assert.equal(playlist.targetDuration, 2);
    for (const segment of playlist.segments) assert.ok(Math.round(segment.durationMs / 1000) <= 2, `EXTINF within the target: ${segment.durationMs} ms`);
    sequences.push(first + playlist.segments.length - 1);
    await sleep(500);
  }
  for (let i = 1; i < sequences.length; i++) assert.ok(sequences[i]! >= sequences[i - 1]!, `newest media sequence went back: ${sequences.join(',')}`);
  const advanced = sequences.at(-1)! - sequences[0]!;
  assert.ok(advanced >= 4 && advanced <= 8, `the live edge moved ${advanced} segments in 12 s of 2 s segments: ${sequences.join(',')}`);

  // Program date-times: one timeline, the same for every rendition, advancing by each EXTINF.
  const dated = await Promise.all(['144p', '240p'].map(async (rendition) => programDateTimes(await (await fetch(`${origin.url}/live/clock/${rendition}/index.m3u8`)).text())));
  for (const [uri, { startMs, durationMs }] of dated[0]!) {
    const next = dated[0]!.get(`seg-${Number(/\d+/.exec(uri)![0]) + 1}.ts`);
    if (next) assert.equal(next.startMs, startMs + durationMs, `${uri} ends where the next segment starts`);
    const other = dated[1]!.get(uri);
    if (other) assert.equal(other.startMs, startMs, `${uri} has the same date in both renditions`);
  }

  // The whole window, fetched from the origin, decodes with timestamps that never go back or skip.
  for (const rendition of ['144p', '240p']) {
    const listed = parseMediaPlaylist(await (await fetch(`${origin.url}/live/clock/${rendition}/index.m3u8`)).text());
    assert.ok(listed.segments.length >= 5, `${rendition}: ${listed.segments.length} segments in the window`);
    const bodies = await Promise.all(listed.segments.map(async (segment) => {
      const response = await fetch(`${origin.url}/live/clock/${rendition}/${segment.uri}`);
      assert.equal(response.status, 200, segment.uri);
      assert.equal(response.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      return Buffer.from(await response.arrayBuffer());
    }));
    await assertContinuous(await concatenate(bodies, `window-${rendition}.ts`), `${rendition} window`);
  }

  // ffmpeg stops (SIGSTOP): within a few target durations the origin refuses the channel's playlists.
  process.kill(ffmpegPid, 'SIGSTOP');
  const stoppedAt = Date.now();
  try {
    const stalled = await waitFor('a 503 for the stalled channel', async () => {
      const response = await fetch(`${origin.url}/live/clock/240p/index.m3u8`);
      const body = await response.text();
      return response.status === 503 ? { response, body } : undefined;
    }, 15_000, 250);
    const after = Date.now() - stoppedAt;
    assert.ok(after <= 3 * 2000 + 1500, `503 came ${after} ms after ffmpeg stopped`);
    assert.equal(stalled.response.headers.get('retry-after'), '2');
    assert.match(stalled.body, /^live encoder stalled: playlist not updated for \d+ s \(target duration 2 s\)\n$/);
    assert.equal((await fetch(`${origin.url}/live/clock/master.m3u8`)).status, 503, 'the master playlist too');
  } finally {
    process.kill(ffmpegPid, 'SIGCONT');
  }
  const resumedAt = Date.now();
  const resumed = await waitFor('the channel answering again', async () => {
    const response = await fetch(`${origin.url}/live/clock/240p/index.m3u8`);
    return response.status === 200 ? response.text() : (await response.body?.cancel(), undefined);
  }, 10_000, 250);
  assert.ok(Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(resumed)![1]) >= Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)![1]), 'numbering carried on');
  assert.ok(Date.now() - resumedAt <= 4000, `resumed ${Date.now() - resumedAt} ms after SIGCONT`);

  assert.equal(await encoder.stop(), 0, encoder.output());
  assert.match(encoder.output(), /"msg":"stopped"/);
});

test('a looped file keeps its timestamps monotonic across the loop point', { timeout: 90_000 }, async () => {
  // 3 s of video with 3.6 s of 44.1 kHz audio: the streams end apart, as real files do (copying
  // the looped streams as they come leaves ~40 ms holes in the audio at each loop point).
  const source = join(work, 'loop-source.mp4');
  await run('ffmpeg', [
    '-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30:duration=3', '-f', 'lavfi', '-i', 'sine=frequency=300:sample_rate=44100:duration=3.6',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', '-y', source,
  ]);
  const content = join(work, 'looped');
  const encoder = await spawnStreamedge(
    ['live', '--input', source, '--id', 'loop', '--content', content, '--rendition', '144p', '--preset', 'ultrafast', '--segment-seconds', '1', '--window', '20'],
    { readyMessage: 'publishing', startTimeoutMs: 30_000 },
  );
  processes.push(encoder);
  const dir = join(content, 'live', 'loop', '144p');
  // Past two loop points (3.6 s and 7.2 s of output).
  await waitFor('9 s of segments', async () => ((await readdir(dir)).filter((name) => name.startsWith('seg-')).length >= 9 ? true : undefined), 20_000, 250);
  assert.equal(await encoder.stop(), 0, encoder.output());
  const playlist = parseMediaPlaylist(await readFile(join(dir, 'index.m3u8'), 'utf8'));
  assert.doesNotMatch(await readFile(join(dir, 'index.m3u8'), 'utf8'), /#EXT-X-DISCONTINUITY\n/, 'a loop is not a discontinuity');
  const total = playlist.segments.reduce((sum, segment) => sum + segment.durationMs, 0);
  assert.ok(total >= 8000, `${total} ms listed`);
  const bodies = await Promise.all(playlist.segments.map((segment) => readFile(join(dir, segment.uri))));
  await assertContinuous(await concatenate(bodies, 'looped.ts'), 'looped file');
});

test('--low-latency: real CMAF parts from ffmpeg, segments that are their parts concatenated, blocking reloads answered by the origin', { timeout: 90_000 }, async () => {
  const content = join(work, 'low-latency');
  const encoder = await spawnStreamedge(
    ['live', '--input', 'lavfi:testsrc2=size=320x180:rate=30', '--id', 'low', '--content', content, ...CHEAP, '--low-latency', '--part-seconds', '0.333'],
    { readyMessage: 'publishing', startTimeoutMs: 30_000 },
  );
  processes.push(encoder);
  const origin = await spawnStreamedge(['origin', '--content', content, '--port', '0', '--id', 'll-origin']);
  processes.push(origin);
  const base = `${origin.url}/live/low/240p`;
  assert.match(await (await fetch(`${origin.url}/live/low/master.m3u8`)).text(), /CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"\n240p\/index\.m3u8\n/);
  assert.deepEqual(JSON.parse(await readFile(join(content, 'live', 'low', 'channel.json'), 'utf8')), { id: 'low', title: 'low', format: 'fmp4', lowLatency: true });

  // Follow the live edge part by part with blocking reloads, as an LL-HLS player does.
  let text = await (await fetch(`${base}/index.m3u8`)).text();
  assert.match(text, /#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1\.002,CAN-SKIP-UNTIL=12\.000\n#EXT-X-PART-INF:PART-TARGET=0\.334\n/);
  const gaps: number[] = [];
  for (let i = 0; i < 12; i++) {
    const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-(\d+)\.(\d+)\.m4s"/.exec(text)!;
    const started = Date.now();
    const response = await fetch(`${base}/index.m3u8?_HLS_msn=${hint[1]}&_HLS_part=${hint[2]}`);
    assert.equal(response.status, 200);
    text = await response.text();
    gaps.push(Date.now() - started);
  }
  // The other rung is reported once it has a part (the first playlist written may precede it).
  assert.match(text, /\n#EXT-X-RENDITION-REPORT:URI="\.\.\/144p\/index\.m3u8",LAST-MSN=\d+,LAST-PART=\d+\n$/);
  const sorted = [...gaps].sort((x, y) => x - y);
  assert.ok(sorted[6]! >= 150 && sorted[6]! <= 600, `a new part about every 333 ms: waits ${gaps.join(', ')} ms`);

  // Wait for three complete segments, then judge the files.
  const dir = join(content, 'live', 'low', '240p');
  await waitFor('three segments', async () => ((await readdir(dir)).includes('seg-2.m4s') ? true : undefined), 15_000, 200);
  text = await readFile(join(dir, 'index.m3u8'), 'utf8');
  const init = await readFile(join(dir, 'init.mp4'));
  for (const msn of [0, 1, 2]) {
    const parts = [...text.matchAll(new RegExp(`#EXT-X-PART:DURATION=([\\d.]+),URI="(seg-${msn}\\.\\d+\\.m4s)"(,INDEPENDENT=YES)?`, 'g'))];
    if (parts.length === 0) continue; // older than the part listing
    assert.equal(parts.length, 6, `seg-${msn}: 6 parts of 1/3 s in 2 s`);
    assert.deepEqual(parts.map((match) => match[3] !== undefined), [true, false, false, false, false, false], `seg-${msn} starts with its keyframe`);
    for (const match of parts) assert.ok(Number(match[1]) <= 0.334, match[0]);
    const bodies = await Promise.all(parts.map((match) => readFile(join(dir, match[2]!))));
    const whole = await readFile(join(dir, `seg-${msn}.m4s`));
    assert.deepEqual(whole, Buffer.concat(bodies), `seg-${msn}.m4s is its parts concatenated`);
    assert.match(text, new RegExp(`#EXTINF:2\\.000,\\nseg-${msn}\\.m4s\\n`));
  }
  // init + a segment and init + its first part are each a decodable MP4 to ffprobe and ffmpeg.
  const playable = await concatenate([init, await readFile(join(dir, 'seg-1.m4s'))], 'seg-1.mp4');
  const { stdout } = await run('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'csv=p=0', playable]);
  assert.match(stdout, /^h264,60\naac,9[34]\n$/, stdout);
  const firstPart = await concatenate([init, await readFile(join(dir, 'seg-1.0.m4s'))], 'seg-1.0.mp4');
  assert.equal((await run('ffmpeg', ['-hide_banner', '-v', 'error', '-i', firstPart, '-f', 'null', '-'])).stderr.trim(), '');
  const frames = await run('ffprobe', ['-v', 'error', '-select_streams', 'v', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', firstPart]);
  assert.equal(frames.stdout.trim(), '10');

  assert.equal(await encoder.stop(), 0, encoder.output());
});
