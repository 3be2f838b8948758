// bench:live's figures for one round, from the publisher's clock and the client workers' records:
// part publication → delivery, the client's own lag behind the live edge, and failures by reason.
// Pure, so that what the report says about the servers and about the client is tested.
import type { SchedStat } from './scheduler-wait.js';
import { percentile } from './wrk-load.js';

/** What one client worker (its own event loop and connection pool) recorded in a round. */
export interface PollerWorkerRecord {
  /** [part URI, epoch ms its bytes were read in full]. */
  readonly deliveries: readonly (readonly [string, number])[];
  /** [preload-hinted part URI, epoch ms the blocking reload for it was issued]. */
  readonly reloads: readonly (readonly [string, number])[];
  /** [reason, the part URI asked for or announced ('' if none yet), epoch ms of the failure]. */
  readonly failures: readonly (readonly [string, string, number])[];
  /** The worker's event-loop delay, p99 in ms: time the client itself made responses wait. */
  readonly loopDelayP99Ms: number;
  /** Connections its pollers opened: one each when every connection was kept alive, more after closes and failures. */
  readonly connectionsOpened: number;
  /** The worker thread's time on a CPU and waiting for one over its round, ms. */
  readonly thread: SchedStat;
}

export interface LiveRoundFigures {
  /** Publication → delivery, ms, sorted. */
  readonly latencies: readonly number[];
  readonly failures: number;
  readonly reasons: ReadonlyMap<string, number>;
  /** The part most pollers failed on, if several did: a shared cause (server or publisher), not a poller's. */
  readonly worstPart: { readonly uri: string; readonly failures: number; readonly msAfterPublication: number } | undefined;
  /** Per blocking reload, how long its part had already been published when it was issued (0 if not yet), ms, sorted. */
  readonly issueLags: readonly number[];
  /** Share of blocking reloads issued for a part already published: the poller was behind the live edge. */
  readonly lateReloadShare: number;
  /** The worst client worker's event-loop delay p99, ms. */
  readonly loopDelayP99Ms: number;
  /** Connections opened by every worker's pollers. */
  readonly connectionsOpened: number;
  /** The client workers' threads' time on a CPU and waiting for one, summed, ms. */
  readonly clientThreads: SchedStat;
  /** Why the client, not the server, may dominate this round's latency; undefined when it kept up. */
  readonly clientBehind: string | undefined;
}

const addReason = (reasons: Map<string, number>, reason: string, count: number): void => {
  reasons.set(reason, (reasons.get(reason) ?? 0) + count);
};

/**
 * Joins the workers' records with the publication times (taken by the publisher as each playlist
 * naming a part was written, not by a poller). The client is judged behind when a worker's event
 * loop stalled for over a quarter of a part interval at p99, or when the median reload was issued
 * for a part published more than one part interval earlier (parts skipped); the issue lag also
 * carries the server's slowness on the poller's previous requests, the loop delay is the client's alone.
 */
export function liveRoundFigures(publishedAt: ReadonlyMap<string, number>, workers: readonly PollerWorkerRecord[], partMs: number): LiveRoundFigures {
  const latencies: number[] = [];
  const issueLags: number[] = [];
  const reasons = new Map<string, number>();
  const failuresByPart = new Map<string, number[]>();
  let late = 0;
  for (const worker of workers) {
    for (const [reason, uri, at] of worker.failures) {
      addReason(reasons, reason, 1);
      if (uri === '') continue;
      const times = failuresByPart.get(uri) ?? [];
      times.push(at);
      failuresByPart.set(uri, times);
    }
    for (const [uri, deliveredAt] of worker.deliveries) {
      const published = publishedAt.get(uri);
      if (published === undefined) addReason(reasons, 'delivered a part the bench never published', 1);
      else latencies.push(deliveredAt - published);
    }
    for (const [uri, issuedAt] of worker.reloads) {
      const published = publishedAt.get(uri);
      const lag = published !== undefined && published <= issuedAt ? issuedAt - published : 0;
      if (published !== undefined && published <= issuedAt) late++;
      issueLags.push(lag);
    }
  }
  latencies.sort((a, b) => a - b);
  issueLags.sort((a, b) => a - b);
  const loopDelayP99Ms = Math.max(0, ...workers.map((worker) => worker.loopDelayP99Ms));
  const medianLag = percentile(issueLags, 50);
  const clientThreads = {
    runMs: workers.reduce((total, worker) => total + worker.thread.runMs, 0),
    waitMs: workers.reduce((total, worker) => total + worker.thread.waitMs, 0),
  };
  const why =
    loopDelayP99Ms > partMs / 4
      ? `client event-loop delay p99 ${loopDelayP99Ms.toFixed(1)} ms > ${(partMs / 4).toFixed(1)} ms`
      : medianLag > partMs
        ? `median reload issued ${medianLag} ms after its part was published (> one part interval)`
        : undefined;
  // Whether the client lacked speed or a CPU: its threads' run time against their wait for one.
  const clientBehind = why && `${why}; its threads ran ${(clientThreads.runMs / 1000).toFixed(1)} s and waited ${(clientThreads.waitMs / 1000).toFixed(1)} s for a CPU`;
  const [worstUri, worstTimes] = [...failuresByPart].reduce<[string, number[]]>((worst, entry) => (entry[1].length > worst[1].length ? entry : worst), ['', []]);
  const worstPublished = publishedAt.get(worstUri);
  const worstPart =
    worstTimes.length > 1 ? { uri: worstUri, failures: worstTimes.length, msAfterPublication: worstPublished === undefined ? Number.NaN : Math.min(...worstTimes) - worstPublished } : undefined;
  return {
    latencies,
    failures: [...reasons.values()].reduce((total, count) => total + count, 0),
    reasons,
    worstPart,
    issueLags,
    lateReloadShare: issueLags.length === 0 ? 0 : late / issueLags.length,
    loopDelayP99Ms,
    connectionsOpened: workers.reduce((total, worker) => total + worker.connectionsOpened, 0),
    clientThreads,
    clientBehind,
  };
}

/**
 * The longest time between consecutive publications from `since` on (publication order is the
 * map's insertion order), ms: a gap over the origin's hold (3 target durations) fails every held
 * reload at once, whichever cache is in front.
 */
export function longestPublicationGap(publishedAt: ReadonlyMap<string, number>, since: number): number {
  let longest = 0;
  let previous: number | undefined;
  for (const at of publishedAt.values()) {
    if (previous !== undefined && at >= since) longest = Math.max(longest, at - Math.max(previous, since));
    previous = at;
  }
  return longest;
}

/** Pollers per client worker: as even as possible, every worker with at least one, none left over. */
export function splitPollers(pollers: number, workers: number): number[] {
  if (!Number.isInteger(pollers) || pollers < 1) throw new RangeError('splitPollers: pollers must be an integer ≥ 1');
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError('splitPollers: workers must be an integer ≥ 1');
  const count = Math.min(pollers, workers);
  return Array.from({ length: count }, (_, index) => Math.floor(pollers / count) + (index < pollers % count ? 1 : 0));
}

/** Failure reasons, most frequent first, for a report line. */
export function describeReasons(reasons: ReadonlyMap<string, number>): string {
  return [...reasons]
    .sort((a, b) => b[1] - a[1])
    .map(([reason, count]) => `${reason} × ${count}`)
    .join(', ');
}
