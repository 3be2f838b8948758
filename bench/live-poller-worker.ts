// One bench:live client worker: its share of the LL-HLS pollers on its own event loop and its own
// bounded connection pool, so that 1,000 pollers are not one Node loop falling behind the live
// edge. Each poller does what hls.js does in lowLatencyMode: a blocking reload for the
// preload-hinted part (_HLS_msn/_HLS_part), then that part. It records when each reload was issued
// and each part read in full; the main thread joins them with the publisher's times.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { Agent, request } from 'undici';
import type { PollerWorkerRecord } from './live-round-figures.js';

export interface PollerWorkerTask {
  /** The rendition's base URL on the contender, without a trailing slash. */
  readonly url: string;
  readonly pollers: number;
  /** Pollers join spread over this many ms, not in one instant. */
  readonly joinSpreadMs: number;
  /** Epoch ms at which pollers stop issuing requests. */
  readonly endAt: number;
  readonly partMs: number;
  readonly requestTimeoutMs: number;
}

const HINT = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="(seg-\d+\.\d+\.m4s)"/;
const HINT_NUMBERS = /^seg-(\d+)\.(\d+)\.m4s$/;

const task = workerData as PollerWorkerTask;
// One connection per poller (a held blocking reload occupies its connection), bounded.
const agent = new Agent({ connections: task.pollers + 4, pipelining: 1, headersTimeout: task.requestTimeoutMs, bodyTimeout: task.requestTimeoutMs });
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
const deliveries: [string, number][] = [];
const reloads: [string, number][] = [];
const failures: [string, string, number][] = [];

/** A failed answer's status and the start of its body, numbers masked so one cause is one reason (the part is recorded apart). */
const answerOf = (what: string, status: number, text: string): string => `${what} ${status} ${text.trim().slice(0, 60).replace(/\d+/g, 'N')}`;

const get = async (target: string): Promise<{ status: number; text: string }> => {
  // undici's request, not fetch: a fraction of fetch's CPU per request, which the client must not spend.
  const response = await request(target, { dispatcher: agent, signal: AbortSignal.timeout(task.requestTimeoutMs) });
  return { status: response.statusCode, text: await response.body.text() };
};

const poller = async (): Promise<void> => {
  let hinted: string | undefined;
  while (Date.now() < task.endAt) {
    // The part this step is about: the one asked for by the reload, then fetched.
    const wanted = hinted;
    try {
      const numbers = wanted === undefined ? undefined : HINT_NUMBERS.exec(wanted);
      if (wanted !== undefined) reloads.push([wanted, Date.now()]);
      const playlist = await get(`${task.url}/index.m3u8${numbers ? `?_HLS_msn=${numbers[1]}&_HLS_part=${numbers[2]}` : ''}`);
      if (playlist.status !== 200) throw new Error(answerOf('playlist', playlist.status, playlist.text));
      hinted = HINT.exec(playlist.text)?.[1];
      if (hinted === undefined) throw new Error('playlist without a preload hint');
      if (wanted === undefined) continue;
      const part = await get(`${task.url}/${wanted}`);
      if (part.status !== 200) throw new Error(answerOf('part', part.status, part.text));
      deliveries.push([wanted, Date.now()]);
    } catch (error) {
      const reason = (error as Error).name === 'TimeoutError' ? 'client timeout' : (error as Error).message;
      failures.push([reason, wanted ?? '', Date.now()]);
      hinted = undefined;
      await new Promise((resolveWait) => setTimeout(resolveWait, task.partMs));
    }
  }
};

loopDelay.enable();
await Promise.all(
  Array.from({ length: task.pollers }, (_, index) => new Promise((resolveStart) => setTimeout(resolveStart, (index * task.joinSpreadMs) / task.pollers)).then(poller)),
);
loopDelay.disable();
await agent.close();
const record: PollerWorkerRecord = { deliveries, reloads, failures, loopDelayP99Ms: loopDelay.percentile(99) / 1e6 };
parentPort!.postMessage(record);
