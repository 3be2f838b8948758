// LL-HLS delivery directives against a real `streamedge origin` process, on a live directory this
// test writes through the encoder's own rendition writer (parts published when the test says).
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnStreamedge, type StreamedgeProcess } from '../stack/streamedge-process.js';
import { CHANNEL_MARKER } from './live/live-channel-layout.js';
import { readLowLatencyState } from './live/ll-playlist-state.js';
import { openLiveRenditionWriter, writeFileAtomically, type LiveRenditionWriter } from './live/live-rendition-writer.js';

// A 1 s target duration with 250 ms parts keeps every hold (at most 3 target durations) short.
const PART_MS = 250;
const PARTS_PER_SEGMENT = 4;
let content: string;
let writer: LiveRenditionWriter;
let published = 0;

/** Publishes the next `count` parts, a segment every 4; returns the last part's name. */
async function publishParts(count: number): Promise<string> {
  let uri = '';
  for (let i = 0; i < count; i++, published++) {
    const independent = published % PARTS_PER_SEGMENT === 0;
    uri = (await writer.publishPart(Buffer.from(`part ${published}`), { startMs: published * PART_MS, durationMs: PART_MS, independent }, Date.now())).uri;
  }
  return uri;
}

let origin: StreamedgeProcess;
/** The rendition's URL on the origin. */
let base: string;
const playlistUrl = (query = ''): string => `${base}/index.m3u8${query}`;

async function heldGauge(): Promise<number> {
  const text = await (await fetch(`${origin.url}/metrics`)).text();
  return Number(/^streamedge_origin_held_requests (\d+)/m.exec(text)?.[1]);
}

before(async () => {
  content = await mkdtemp(join(tmpdir(), 'streamedge-ll-origin-'));
  const dir = join(content, 'live', 'low', '240p');
  await mkdir(dir, { recursive: true });
  await writeFileAtomically(join(content, 'live', 'low', CHANNEL_MARKER), JSON.stringify({ id: 'low', title: 'low', format: 'fmp4', lowLatency: true }));
  writer = await openLiveRenditionWriter({ dir, targetDuration: 1, windowSize: 12, partTargetMs: PART_MS });
  await writer.publishInit(Buffer.from('init'));
  await publishParts(PARTS_PER_SEGMENT * 3 + 1);
  origin = await spawnStreamedge(['origin', '--content', content, '--port', '0', '--max-held-requests', '3']);
  base = `${origin.url}/live/low/240p`;
});

after(async () => {
  await origin.kill();
  await rm(content, { recursive: true, force: true });
});

test('a blocking reload is held until the playlist holds the asked part or segment, then cached for six target durations', async () => {
  await publishParts(1);
  const state = readLowLatencyState(await (await fetch(playlistUrl())).text())!;
  const hint = state.hint!;
  const started = Date.now();
  const held = fetch(playlistUrl(`?_HLS_msn=${hint.msn}&_HLS_part=${hint.part}`));
  await sleep(300);
  const hinted = await publishParts(1);
  const response = await held;
  assert.equal(response.status, 200);
  assert.ok(Date.now() - started >= 300, 'held until the part was published');
  assert.equal(response.headers.get('cache-control'), 'public, max-age=6');
  assert.match(await response.text(), new RegExp(`URI="${hinted.replace(/\./g, '\\.')}"`));

  // Part omitted: the whole segment. The one in progress completes when the next one starts.
  const segment = fetch(playlistUrl(`?_HLS_msn=${hint.msn}`));
  await sleep(100);
  await publishParts(PARTS_PER_SEGMENT - 1 - hint.part);
  await sleep(100);
  await publishParts(1);
  const whole = await segment;
  assert.equal(whole.status, 200);
  assert.match(await whole.text(), new RegExp(`\\nseg-${hint.msn}\\.m4s\\n`));

  // Already there: answered at once, with the same long caching.
  const present = await fetch(playlistUrl(`?_HLS_msn=${hint.msn}&_HLS_part=0`));
  assert.equal(present.status, 200);
  assert.equal(present.headers.get('cache-control'), 'public, max-age=6');
  const plain = await fetch(playlistUrl());
  assert.equal(plain.headers.get('cache-control'), 'public, max-age=1');
  assert.equal(await heldGauge(), 0);
});

test('directives out of range or malformed get 400, a segment that never comes 503 after three target durations', async () => {
  await publishParts(1);
  const { lastMsn } = readLowLatencyState(await (await fetch(playlistUrl())).text())!;
  for (const [query, reason] of [
    [`?_HLS_msn=${lastMsn + 3}`, /more than 2 segments past the last one/],
    ['?_HLS_part=1', /_HLS_part needs _HLS_msn/],
    ['?_HLS_msn=abc', /bad _HLS_msn/],
    ['?_HLS_msn=1&_HLS_part=-2', /bad _HLS_part/],
    ['?_HLS_skip=maybe', /bad _HLS_skip/],
  ] as const) {
    const response = await fetch(playlistUrl(query));
    assert.equal(response.status, 400, query);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.match(await response.text(), reason, query);
  }
  const started = Date.now();
  const timedOut = await fetch(playlistUrl(`?_HLS_msn=${lastMsn + 2}`));
  const waited = Date.now() - started;
  assert.equal(timedOut.status, 503);
  assert.match(await timedOut.text(), new RegExp(`segment ${lastMsn + 2} did not appear within 3 s`));
  assert.ok(waited >= 2900 && waited < 4500, `held ${waited} ms`);
});

test('the preload-hinted part (or the next) is held until it exists; any other missing part is 404 at once', async () => {
  await publishParts(1);
  const { hint } = readLowLatencyState(await (await fetch(playlistUrl())).text())!;
  const hinted = fetch(`${base}/seg-${hint!.msn}.${hint!.part}.m4s`);
  const [msn, part] = hint!.part + 1 < PARTS_PER_SEGMENT ? [hint!.msn, hint!.part + 1] : [hint!.msn + 1, 0];
  const after = fetch(`${base}/seg-${msn}.${part}.m4s`);
  const notYet = await fetch(`${base}/seg-${msn}.${part + 1}.m4s`);
  assert.equal(notYet.status, 404);
  assert.equal((await fetch(`${base}/seg-${hint!.msn + 1}.m4s`)).status, 404, 'a whole segment is never held');
  await sleep(200);
  const names = [await publishParts(1), await publishParts(1)];
  for (const [i, response] of [await hinted, await after].entries()) {
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(response.headers.get('content-type'), 'video/mp4');
    assert.equal(await response.text(), `part ${published - 2 + i}`, names[i]);
  }
  const init = await fetch(`${base}/init.mp4`);
  assert.equal(init.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(await init.text(), 'init');
});

test('held requests are capped (503 past the cap), counted in /metrics, and let go when their client leaves', async () => {
  await publishParts(1);
  const { lastMsn } = readLowLatencyState(await (await fetch(playlistUrl())).text())!;
  const leaving = new AbortController();
  const held = [0, 1, 2].map(() => fetch(playlistUrl(`?_HLS_msn=${lastMsn + 2}`), { signal: leaving.signal }).catch(() => undefined));
  await sleep(300);
  assert.equal(await heldGauge(), 3);
  const refused = await fetch(playlistUrl(`?_HLS_msn=${lastMsn + 2}`));
  assert.equal(refused.status, 503);
  assert.match(await refused.text(), /too many requests held/);
  leaving.abort();
  await Promise.all(held);
  await sleep(100);
  assert.equal(await heldGauge(), 0);
  const metrics = await (await fetch(`${origin.url}/metrics`)).text();
  assert.match(metrics, /streamedge_origin_held_requests_total\{outcome="aborted"\} 3/);
  assert.match(metrics, /streamedge_origin_held_requests_total\{outcome="full"\} 1/);
});

test('_HLS_skip answers a delta update once segments lie beyond CAN-SKIP-UNTIL', async () => {
  await publishParts(PARTS_PER_SEGMENT * 6);
  const full = await (await fetch(playlistUrl())).text();
  const state = readLowLatencyState(full)!;
  for (const skip of ['YES', 'v2']) {
    const response = await fetch(playlistUrl(`?_HLS_skip=${skip}`));
    assert.equal(response.status, 200);
    const delta = await response.text();
    const skipped = Number(/#EXT-X-SKIP:SKIPPED-SEGMENTS=(\d+)\n/.exec(delta)?.[1]);
    assert.ok(skipped >= 1, delta);
    assert.match(delta, new RegExp(`#EXT-X-SKIP:SKIPPED-SEGMENTS=${skipped}\\n#EXT-X-PROGRAM-DATE-TIME:[^\\n]+\\n#EXTINF:1\\.000,\\nseg-${state.mediaSequence + skipped}\\.m4s\\n`));
    assert.ok(delta.length < full.length);
  }
  const blockingDelta = await fetch(playlistUrl(`?_HLS_msn=${state.lastMsn}&_HLS_skip=YES`));
  assert.equal(blockingDelta.headers.get('cache-control'), 'public, max-age=6');
  assert.match(await blockingDelta.text(), /#EXT-X-SKIP:SKIPPED-SEGMENTS=/);
});
