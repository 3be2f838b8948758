import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sumMetric } from '../../infra/prometheus/prometheus-text.js';
import { waitFor } from '../../infra/testing/wait-for.js';
import { ffmpegPidOf } from '../../stack/live-encoder-supervisor.js';
import { spawnStreamedge } from '../../stack/streamedge-process.js';
import { createLiveMetrics, serveLiveMetrics } from './live-metrics.js';

test('publish ages count from the start until a first segment, then from the newest; ffmpeg progress is read across cut chunks', async () => {
  let now = 1_000_000;
  const metrics = createLiveMetrics({ channel: 'ch', renditions: ['240p', '480p'], clock: () => now });
  const read = async (name: string, labels: Record<string, string> = {}): Promise<number> => sumMetric(await metrics.registry.metrics(), name, { channel: 'ch', ...labels });
  now += 5000;
  assert.equal(await read('streamedge_live_last_publish_age_seconds', { rendition: '240p' }), 5);
  metrics.ffmpegStarted();
  metrics.segmentPublished('240p');
  metrics.segmentPublished('240p');
  now += 1500;
  assert.equal(await read('streamedge_live_last_publish_age_seconds', { rendition: '240p' }), 1.5);
  assert.equal(await read('streamedge_live_last_publish_age_seconds', { rendition: '480p' }), 6.5);
  assert.equal(await read('streamedge_live_segments_published_total', { rendition: '240p' }), 2);
  assert.equal(await read('streamedge_live_segments_published_total', { rendition: '480p' }), 0);
  assert.equal(await read('streamedge_live_ffmpeg_start_time_seconds'), 1005);
  assert.equal(await read('streamedge_live_ffmpeg_running'), 1);
  assert.throws(() => metrics.segmentPublished('1080p'), /unknown rendition 1080p/);

  // "N/A" before ffmpeg knows is not a figure; a line cut between chunks is read whole.
  metrics.progress('frame=1\nfps=0.00\nspeed=N/A\nprogress=continue\nframe=31\nfps=30.');
  metrics.progress('42\ndrop_frames=2\nspeed=0.9');
  assert.equal(await read('streamedge_live_encode_frames_per_second'), 30.42);
  assert.equal(await read('streamedge_live_encode_dropped_frames'), 2);
  assert.equal(await read('streamedge_live_encode_speed_ratio'), 0);
  metrics.progress('7x\n');
  assert.equal(await read('streamedge_live_encode_speed_ratio'), 0.97);
  // Garbage without a newline is bounded and dropped, and what follows is read again.
  metrics.progress('x'.repeat(10_000));
  metrics.progress('\nspeed=1.01x\n');
  assert.equal(await read('streamedge_live_encode_speed_ratio'), 1.01);

  metrics.ffmpegExited(null, 'SIGKILL');
  assert.equal(await read('streamedge_live_ffmpeg_running'), 0);
  assert.equal(await read('streamedge_live_ffmpeg_exits_total', { status: 'SIGKILL' }), 1);
  assert.throws(() => createLiveMetrics({ channel: 'ch', renditions: [] }), /at least one rendition/);
});

test('the metrics port answers GET /metrics, 404 elsewhere and 405 to other methods', async (t) => {
  const metrics = createLiveMetrics({ channel: 'ch', renditions: ['240p'] });
  const server = await serveLiveMetrics(metrics, 0, '127.0.0.1');
  t.after(() => server.close());
  const scrape = await fetch(`${server.url}/metrics`);
  assert.equal(scrape.status, 200);
  assert.match(scrape.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await scrape.text();
  assert.match(text, /^streamedge_live_segments_published_total\{channel="ch",rendition="240p"\} 0$/m);
  assert.match(text, /^process_cpu_seconds_total /m);
  const other = await fetch(`${server.url}/`);
  assert.equal(other.status, 404);
  await other.body?.cancel();
  const post = await fetch(`${server.url}/metrics`, { method: 'POST' });
  assert.equal(post.status, 405);
  await post.body?.cancel();
});

test('streamedge live --metrics-port: real segments and encode speed counted; a stopped ffmpeg shows as a growing publish age', { timeout: 120_000 }, async (t) => {
  const content = await mkdtemp(join(tmpdir(), 'streamedge-live-metrics-'));
  t.after(() => rm(content, { recursive: true, force: true }));
  const encoder = await spawnStreamedge(
    ['live', '--input', 'lavfi:testsrc2=size=320x180:rate=30', '--id', 'metered', '--content', content, '--rendition', '144p', '--rendition', '240p', '--preset', 'ultrafast', '--segment-seconds', '1', '--metrics-port', '0'],
    { readyMessage: 'publishing', startTimeoutMs: 30_000 },
  );
  t.after(() => encoder.stop());
  const url = /"url":"([^"]+\/metrics)"/.exec(encoder.output())?.[1];
  assert.ok(url, encoder.output());
  const read = async (name: string, labels: Record<string, string> = {}): Promise<number> => sumMetric(await (await fetch(url)).text(), name, { channel: 'metered', ...labels });

  await waitFor('two segments of each rendition and a speed figure', async () => {
    const counts = await Promise.all(['144p', '240p'].map((rendition) => read('streamedge_live_segments_published_total', { rendition })));
    return counts.every((count) => count >= 2) && (await read('streamedge_live_encode_speed_ratio')) > 0 ? true : undefined;
  }, 30_000, 250);
  assert.equal(await read('streamedge_live_ffmpeg_running'), 1);
  assert.ok(Math.abs((await read('streamedge_live_ffmpeg_start_time_seconds')) - Date.now() / 1000) < 60);
  assert.ok((await read('streamedge_live_last_publish_age_seconds', { rendition: '240p' })) < 3);

  // ffmpeg stopped: nothing new is published while the process still answers, so the age grows.
  const ffmpegPid = ffmpegPidOf(encoder.output());
  assert.ok(ffmpegPid);
  process.kill(ffmpegPid, 'SIGSTOP');
  try {
    await waitFor('a publish age past 4 s', async () => ((await read('streamedge_live_last_publish_age_seconds', { rendition: '240p' })) > 4 ? true : undefined), 15_000, 250);
  } finally {
    process.kill(ffmpegPid, 'SIGCONT');
  }
  await waitFor('publishing again', async () => ((await read('streamedge_live_last_publish_age_seconds', { rendition: '240p' })) < 2 ? true : undefined), 15_000, 250);
});

test('a bad --metrics-port is refused at startup, naming the option', async () => {
  const refused = await spawnStreamedge(['live', '--input', 'lavfi:testsrc2', '--id', 'bad', '--metrics-port', '70000'], { startTimeoutMs: 10_000 }).then(
    () => assert.fail('started'),
    (error: Error) => error.message,
  );
  assert.match(refused, /exited \(2\)[\s\S]*--metrics-port/);
});
