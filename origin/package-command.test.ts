// `streamedge package` as a user runs it: a real CLI process, real ffmpeg, a real origin serving
// the result. Bad input ends with one clear line and exit code 2, and leaves the catalog as it was.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { spawnStreamedge } from '../stack/streamedge-process.js';
import { parseSubtitleOption } from './package-command.js';
import { makeMultitrackSource, SUBTITLE_TEXT, type MultitrackSource } from './test/multitrack-source.js';

const CLI = fileURLToPath(new URL('../stack/cli/streamedge.js', import.meta.url));
const FAST = ['--preset', 'ultrafast', '--segment-seconds', '2'];

interface Run {
  readonly code: number | NodeJS.Signals;
  readonly stdout: string;
  readonly stderr: string;
}

function run(args: readonly string[], onStderr?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'package', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      onStderr?.(stderr, child);
    });
    child.once('exit', (code, signal) => resolve({ code: code ?? signal ?? 'SIGKILL', stdout, stderr }));
  });
}

/** Everything in the catalog directory, so a failed run can be shown to have left nothing. */
async function listing(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.map(String).sort();
}

let work: string;
let source: MultitrackSource;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'streamedge-package-'));
  source = await makeMultitrackSource(join(work, 'source'), 4);
});
after(() => rm(work, { recursive: true, force: true }));

describe('streamedge package', () => {
  it('reads --subtitles as LANG=FILE or FILE', () => {
    assert.deepEqual(parseSubtitleOption('fr=/a/b.vtt'), { language: 'fr', path: '/a/b.vtt' });
    assert.deepEqual(parseSubtitleOption('pt-BR=/a/b.vtt'), { language: 'pt-BR', path: '/a/b.vtt' });
    assert.deepEqual(parseSubtitleOption('/a/x=y.vtt'), { language: undefined, path: '/a/x=y.vtt' });
  });

  it('packages a two-language source with subtitles (TS and fMP4), and an origin serves both with the right types', { timeout: 120_000 }, async (t) => {
    const content = join(work, 'catalog');
    const started = Date.now();
    const ts = await run([source.video, '--id', 'two-lang', '--title', 'Two languages', '--content', content, '--subtitles', `fr=${source.subtitles}`, ...FAST]);
    const packagingMs = Date.now() - started;
    assert.equal(ts.code, 0, ts.stderr);
    assert.match(ts.stdout, /packaged \/vod\/two-lang\/master\.m3u8 \(ts, 4\.0 s: 180p [\d]+ kb\/s; audio: English, French; subtitles: French\)/);
    assert.match(ts.stderr, /package: 100% done/, 'plain progress lines when stderr is not a terminal');
    const fmp4 = await run([source.video, '--id', 'two-lang-fmp4', '--content', content, '--format', 'fmp4', ...FAST]);
    assert.equal(fmp4.code, 0, fmp4.stderr);
    t.diagnostic(`packaging the 4 s two-language asset (TS, 1 rung, 2 audio, 1 subtitle track) took ${packagingMs} ms`);
    assert.ok(!(await listing(content)).some((path) => path.startsWith('.build')), 'no staging directory left behind');

    const master = await readFile(join(content, 'vod', 'two-lang', 'master.m3u8'), 'utf8');
    assert.match(master, /TYPE=AUDIO,GROUP-ID="audio",NAME="English",LANGUAGE="en",DEFAULT=YES/);
    assert.match(master, /TYPE=AUDIO,GROUP-ID="audio",NAME="French",LANGUAGE="fr",DEFAULT=NO/);
    assert.match(master, /TYPE=SUBTITLES,GROUP-ID="subtitles",NAME="French",LANGUAGE="fr"/);
    assert.match(master, /AUDIO="audio",SUBTITLES="subtitles"\n180p\/index\.m3u8/);

    const origin = await spawnStreamedge(['origin', '--content', content, '--port', '0']);
    t.after(() => origin.stop());
    const catalog = (await (await fetch(`${origin.url}/catalog.json`)).json()) as { assets: { id: string; title: string; format: string }[] };
    assert.deepEqual(catalog.assets.map((asset) => [asset.id, asset.title, asset.format]), [['two-lang', 'Two languages', 'ts'], ['two-lang-fmp4', 'two-lang-fmp4', 'fmp4']]);
    const types: [string, string][] = [
      ['/vod/two-lang/master.m3u8', 'application/vnd.apple.mpegurl'],
      ['/vod/two-lang/audio-2/index.m3u8', 'application/vnd.apple.mpegurl'],
      ['/vod/two-lang/audio-2/seg-00000.ts', 'video/mp2t'],
      ['/vod/two-lang/subtitles-1/seg-00000.vtt', 'text/vtt; charset=utf-8'],
      ['/vod/two-lang-fmp4/180p/init_0.mp4', 'video/mp4'],
      ['/vod/two-lang-fmp4/audio-1/seg-00001.m4s', 'video/mp4'],
    ];
    for (const [path, type] of types) {
      const response = await fetch(`${origin.url}${path}`);
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get('content-type'), type, path);
      const body = await response.text();
      if (path.endsWith('.vtt')) assert.ok(body.includes(`${SUBTITLE_TEXT} 0`) && body.includes('X-TIMESTAMP-MAP=MPEGTS:'), body);
    }
  });

  it('imports an existing HLS directory after checking it', { timeout: 60_000 }, async () => {
    const content = join(work, 'catalog');
    const imported = await run(['--hls', join(content, 'vod', 'two-lang-fmp4'), '--id', 'imported', '--content', content]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /imported \/vod\/imported\/master\.m3u8 \(fmp4, 4\.\d s\)/);
    const files = await listing(join(content, 'vod', 'imported'));
    assert.ok(files.includes('master.m3u8') && files.includes('audio-2/init_2.mp4') && files.includes('asset.json'), files.join(' '));
  });

  describe('bad input: one line, exit code 2, nothing added to the catalog', () => {
    const content = (): string => join(work, 'bad-catalog');
    const cases: [string, () => Promise<string[]>, RegExp][] = [
      ['a missing file', async () => [join(work, 'nope.mp4'), '--id', 'x'], /input: input .*nope\.mp4 does not exist/],
      ['a directory', async () => [work, '--id', 'x'], /input: input .* is not a file/],
      ['an empty file', async () => [await writeInput('empty.mp4', ''), '--id', 'x'], /is empty/],
      ['a text file', async () => [await writeInput('notes.mp4', 'just some words\n'.repeat(50)), '--id', 'x'], /not a media file|not a video/],
      ['an audio-only file', async () => [await audioOnly(), '--id', 'x'], /no video stream \(audio only\)/],
      ['a bad --id', async () => [source.video, '--id', '../etc'], /bad --id "\.\.\/etc"/],
      ['an id of the demo catalog', async () => [source.video, '--id', 'demo-ts'], /reserved for the demo catalog/],
      ['no --id', async () => [source.video], /--id: required/],
      ['no input', async () => ['--id', 'x'], /input: missing/],
      ['a subtitle file that is not WebVTT', async () => [source.video, '--id', 'x', '--subtitles', `fr=${await writeInput('bad.vtt', '1\n00:00:01,000 --> 00:00:02,000\nSRT\n')}`], /--subtitles .*not a WebVTT file/],
      ['an HLS directory without master.m3u8', async () => ['--hls', join(work, 'source'), '--id', 'x'], /--hls: .*master\.m3u8" does not exist/],
      ['an existing asset without --replace', async () => [source.video, '--id', 'two-lang', '--content', join(work, 'catalog')], /already exists .*--replace/],
    ];
    for (const [name, args, message] of cases) {
      it(`refuses ${name}`, { timeout: 30_000 }, async () => {
        const argv = await args();
        const catalogDir = argv.includes('--content') ? argv[argv.indexOf('--content') + 1]! : content();
        const before = await listing(catalogDir);
        const result = await run(argv.includes('--content') ? [...argv, ...FAST] : [...argv, '--content', catalogDir, ...FAST]);
        assert.equal(result.code, 2, `exit code (stderr: ${result.stderr})`);
        const lines = result.stderr.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('package: '));
        assert.equal(lines.length, 1, `one line of error: ${result.stderr}`);
        assert.match(lines[0]!, /^streamedge package: /);
        assert.match(lines[0]!, message);
        assert.deepEqual(await listing(catalogDir), before, 'the catalog is unchanged');
      });
    }
  });

  it('an interrupted run (SIGINT mid-encode) exits 130 and leaves nothing in the catalog', { timeout: 60_000 }, async () => {
    const long = await makeMultitrackSource(join(work, 'long'), 40, '640x360');
    const content = join(work, 'interrupted');
    let sent = false;
    const result = await run([long.video, '--id', 'cut', '--content', content, '--preset', 'ultrafast'], (stderr, child) => {
      if (!sent && /package: \d+% encoding/.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    assert.ok(sent, `the encode started: ${result.stderr}`);
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, /interrupted; nothing was added to the catalog/);
    assert.deepEqual(await listing(content), [], 'nothing staged or published');
  });
});

async function writeInput(name: string, text: string): Promise<string> {
  const dir = join(work, 'inputs');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, name), text);
  return join(dir, name);
}

async function audioOnly(): Promise<string> {
  const path = join(work, 'inputs', 'tone.m4a');
  await mkdir(join(work, 'inputs'), { recursive: true });
  const { runFfmpeg } = await import('./ffmpeg-runner.js');
  await runFfmpeg({ cwd: work, args: ['-f', 'lavfi', '-i', 'sine=duration=1', '-c:a', 'aac', '-y', path] });
  return path;
}
