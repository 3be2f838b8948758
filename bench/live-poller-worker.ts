// One bench:live client worker: its share of the LL-HLS pollers on its own event loop, each poller
// on its own raw keep-alive connection (raw-http-connection.ts: a prebuilt head, status line and
// Content-Length only), so that 1,000 pollers cost the client little enough to keep up with the
// live edge on the cores the servers also use. Each poller does what hls.js does in lowLatencyMode:
// a blocking reload for the preload-hinted part (_HLS_msn/_HLS_part), then that part, whose length
// is checked against what was published. It records when each reload was issued and each part read
// in full; the main thread joins them with the publisher's times.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { preloadHintOf, renditionRequests, type PreloadHint } from './live-poller-requests.js';
import type { PollerWorkerRecord } from './live-round-figures.js';
import { RawHttpConnection, RawHttpFailure } from './raw-http-connection.js';
import { ownThreadSchedStat } from './scheduler-wait.js';

export interface PollerWorkerTask {
  /** The rendition's base URL on the contender (http, no trailing slash). */
  readonly url: string;
  readonly pollers: number;
  /** Pollers join spread over this many ms, not in one instant. */
  readonly joinSpreadMs: number;
  /** Epoch ms at which pollers stop issuing requests. */
  readonly endAt: number;
  readonly partMs: number;
  /** Every published part's length: a part delivered with another is a failure. */
  readonly partBytes: number;
  readonly requestTimeoutMs: number;
}

// A playlist of the bench's window (12 segments of 6 parts) is some 10 KB; far over it is a fault.
const MAX_PLAYLIST_BYTES = 1024 * 1024;
const MAX_HEAD_BYTES = 16 * 1024;

const task = workerData as PollerWorkerTask;
const target = new URL(task.url);
if (target.protocol !== 'http:') throw new TypeError(`client worker: only http URLs, got ${task.url}`);
const requests = renditionRequests(target.host, target.pathname);
const readBuffer = Buffer.allocUnsafe(64 * 1024);
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
const deliveries: [string, number][] = [];
const reloads: [string, number][] = [];
const failures: [string, string, number][] = [];
const connections: RawHttpConnection[] = [];

/** A failed answer's status and the start of its body, numbers masked so one cause is one reason (the part is recorded apart). */
const answerOf = (what: string, status: number, body: Buffer): string => `${what} ${status} ${body.toString('latin1', 0, 120).trim().slice(0, 60).replace(/\d+/g, 'N')}`;

const poller = async (): Promise<void> => {
  const connection = new RawHttpConnection({
    host: target.hostname,
    port: Number(target.port || 80),
    timeoutMs: task.requestTimeoutMs,
    maxHeadBytes: MAX_HEAD_BYTES,
    maxBodyBytes: Math.max(MAX_PLAYLIST_BYTES, task.partBytes),
    readBuffer,
  });
  connections.push(connection);
  let hinted: PreloadHint | undefined;
  while (Date.now() < task.endAt) {
    // The part this step is about: the one asked for by the reload, then fetched.
    const wanted = hinted;
    try {
      if (wanted !== undefined) reloads.push([wanted.uri, Date.now()]);
      const playlist = await connection.request(wanted === undefined ? requests.playlist : requests.reloadFor(wanted), true);
      if (playlist.status !== 200) throw new Error(answerOf('playlist', playlist.status, playlist.body));
      hinted = preloadHintOf(playlist.body);
      if (hinted === undefined) throw new Error('playlist without a part preload hint');
      if (wanted === undefined) continue;
      const part = await connection.request(requests.part(wanted.uri), false);
      if (part.status !== 200) throw new Error(answerOf('part', part.status, part.body));
      if (part.bodyBytes !== task.partBytes) throw new Error(`part of ${part.bodyBytes} bytes, ${task.partBytes} published`);
      deliveries.push([wanted.uri, Date.now()]);
    } catch (error) {
      failures.push([error instanceof RawHttpFailure ? error.reason : (error as Error).message, wanted?.uri ?? '', Date.now()]);
      hinted = undefined;
      await new Promise((resolveWait) => setTimeout(resolveWait, task.partMs));
    }
  }
  connection.close();
};

loopDelay.enable();
const threadBefore = ownThreadSchedStat();
await Promise.all(
  Array.from({ length: task.pollers }, (_, index) => new Promise((resolveStart) => setTimeout(resolveStart, (index * task.joinSpreadMs) / task.pollers)).then(poller)),
);
loopDelay.disable();
const threadAfter = ownThreadSchedStat();
const record: PollerWorkerRecord = {
  deliveries,
  reloads,
  failures,
  loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
  connectionsOpened: connections.reduce((total, connection) => total + connection.connectionsOpened, 0),
  thread: { runMs: threadAfter.runMs - threadBefore.runMs, waitMs: threadAfter.waitMs - threadBefore.waitMs },
};
parentPort!.postMessage(record);
