// Real ffmpeg output (the encoder's own fragmented-MP4 settings), split as it would arrive from a pipe.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { createFmp4FragmentReader, Fmp4FormatError, MAX_BOX_BYTES, type Fmp4Unit } from './fmp4-fragment-reader.js';

const run = promisify(execFile);
const work = await mkdtemp(join(tmpdir(), 'streamedge-fmp4-'));
after(() => rm(work, { recursive: true, force: true }));

/** 4.5 s at 30 fps, keyframes every 2 s, fragments of ≥ 0.333 s: what `streamedge live --low-latency` asks of ffmpeg. */
async function encodeFragmented(): Promise<Buffer> {
  const file = join(work, 'fragmented.mp4');
  await run('ffmpeg', [
    '-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=30:duration=4.5', '-f', 'lavfi', '-i', 'sine=sample_rate=48000:duration=4.5',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '60', '-keyint_min', '60', '-sc_threshold', '0', '-force_key_frames', 'expr:gte(t,n_forced*2)',
    '-c:a', 'aac', '-f', 'mp4', '-movflags', '+cmaf+frag_keyframe+empty_moov+default_base_moof+delay_moov', '-frag_duration', '333000', '-y', file,
  ]);
  return readFile(file);
}

const box = (type: string, body: Buffer = Buffer.alloc(0)): Buffer => {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
};

test('splits a fragmented MP4 stream, in any chunking, into its init segment and one part per moof + mdat', async () => {
  const stream = await encodeFragmented();
  for (const chunkSize of [1, 977, stream.length]) {
    const reader = createFmp4FragmentReader();
    const units: Fmp4Unit[] = [];
    for (let at = 0; at < stream.length; at += chunkSize) units.push(...reader.push(stream.subarray(at, at + chunkSize)));
    const [init, ...parts] = units;
    assert.equal(init?.kind, 'init');
    assert.equal(init.bytes.toString('latin1', 4, 8), 'ftyp');
    assert.ok(parts.every((unit) => unit.kind === 'part'));
    // Every byte but the trailing index (mfra) is in exactly one unit, in order.
    const joined = Buffer.concat(units.map((unit) => unit.bytes));
    assert.deepEqual(joined, stream.subarray(0, joined.length), `chunks of ${chunkSize}`);
    const described = parts.map((unit) => (unit.kind === 'part' ? unit : assert.fail('a part')));
    assert.deepEqual(described.map((part) => part.independent), described.map((_, i) => i % 6 === 0), 'a sync sample every 2 s = every 6th part');
    for (const [i, part] of described.entries()) {
      assert.ok(Math.abs(part.startSeconds - i / 3) < 0.001, `part ${i} starts at ${part.startSeconds}`);
      if (i < described.length - 1) assert.ok(Math.abs(part.durationSeconds - 1 / 3) < 0.001, `part ${i} lasts ${part.durationSeconds}`);
    }
    assert.ok(Math.abs(described.reduce((total, part) => total + part.durationSeconds, 0) - 4.5) < 0.001);
    assert.equal(reader.pendingBytes(), 0, 'the trailing mfra is consumed and dropped');
  }
});

test('refuses what is not our encoder\'s fragmented MP4, before holding anything large', () => {
  assert.throws(() => createFmp4FragmentReader().push(box('moof')), Fmp4FormatError, 'a moof before the init segment');
  assert.throws(() => createFmp4FragmentReader().push(box('moov')), /moov before ftyp/);
  const oversized = Buffer.alloc(8);
  oversized.writeUInt32BE(MAX_BOX_BYTES + 1);
  oversized.write('mdat', 4, 'latin1');
  assert.throws(() => createFmp4FragmentReader().push(Buffer.concat([box('ftyp'), oversized])), /exceeds/);
  const tiny = Buffer.from([0, 0, 0, 4, 0x6d, 0x64, 0x61, 0x74]);
  assert.throws(() => createFmp4FragmentReader().push(tiny), /bad size 4/);
  assert.throws(() => createFmp4FragmentReader().push(Buffer.concat([box('ftyp'), box('moov', box('trak', box('tkhd')))])), /lacks tkhd, mdhd or hdlr/);
  const reader = createFmp4FragmentReader();
  assert.deepEqual(reader.push(box('ftyp').subarray(0, 5)), [], 'an unfinished box waits for more bytes');
  assert.equal(reader.pendingBytes(), 5);
});
