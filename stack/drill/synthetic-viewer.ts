// A synthetic HLS viewer: one fixed rendition played in real time like a player would — master
// playlist from the balancer, media playlist and segments from the steered edge, a bounded
// buffer drained by the wall clock, live reloads every target duration, and failover to the next
// content-steering pathway when a request fails. It counts what a viewer would feel: stalls,
// failed and retried requests, and segments whose bytes do not match their ETag.
import { setMaxListeners } from 'node:events';
import { isIPv4 } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import { createEtagVerifier } from '../../edge/cache/etag-verifier.js';
import { createPathwayChooser, type PathwayChooser } from './pathway-chooser.js';
import { chooseRendition, readMediaPlaylist, type MasterChoice, type MediaPlaylist } from './viewer-playlists.js';

export interface SyntheticViewerOptions {
  readonly id: string;
  /** The master playlist URL on the balancer. */
  readonly masterUrl: string;
  /** Rendition to play, e.g. "240p" (default: the lowest bandwidth). */
  readonly rendition?: string;
  /** Seconds of media buffered ahead at most (a player's forward buffer). */
  readonly maxBufferSeconds: number;
  /** Bound on each request, headers and body. */
  readonly requestTimeoutMs: number;
  /** Attempts per object (the first plus retries on the next pathways) before it counts as lost. */
  readonly maxAttempts: number;
  /** How long a pathway that failed is left alone. */
  readonly pathwayPenaltyMs: number;
  /** Connect from this address of the machine (in hosts mode: a region's viewer address), else the default route's. */
  readonly localAddress?: string;
  /** Told of every playlist and segment request as it ends (a soak times them and places failures in time). */
  readonly onRequest?: (request: ViewerRequest) => void;
  readonly now?: () => number;
}

export type ViewerRequestKind = 'master' | 'playlist' | 'segment';

/** One request a viewer made, as counted in its stats; requests cut by stop() are not reported. */
export interface ViewerRequest {
  readonly kind: ViewerRequestKind;
  readonly url: string;
  readonly startedAt: number;
  readonly endedAt: number;
  /** Request sent → response headers; undefined when none came. */
  readonly ttfbMs: number | undefined;
  /** False when it counts as failed (error, timeout, non-2xx, bytes not matching the ETag). */
  readonly ok: boolean;
  /** Why it failed (e.g. "503", "no answer within 4000 ms", "fetch failed: ECONNRESET"), so a soak can name its failures. */
  readonly failure?: string;
}

export interface ViewerStats {
  readonly id: string;
  /** Milliseconds from start to the first segment in the buffer; undefined if none arrived. */
  readonly startupMs: number | undefined;
  /** Total time playback stood still after it started (an ongoing stall counts up to now). */
  readonly stallMs: number;
  readonly stalls: number;
  /** Playback stands still at this moment. */
  readonly stalled: boolean;
  readonly requests: number;
  /** Requests that failed (error, timeout, non-2xx, bytes not matching the ETag). */
  readonly failed: number;
  /** Of those, segment (fragment) loads: what a player reports as a failed fragment load. */
  readonly failedSegments: number;
  /** Requests that were another attempt at an object after a failure. */
  readonly retried: number;
  /** Objects given up after every attempt failed. */
  readonly lost: number;
  /** Segment bodies whose bytes did not match their ETag (counted in failed too). */
  readonly corrupt: number;
  readonly segments: number;
  /** Live segments that slid out of the window before this viewer could fetch them. */
  readonly skippedSegments: number;
  readonly pathwaySwitches: number;
  readonly pathway: string | undefined;
  readonly firstFailureAt: number | undefined;
  readonly lastFailureAt: number | undefined;
}

export interface SyntheticViewer {
  readonly id: string;
  stats(): ViewerStats;
  /** Stops every loop and aborts requests in flight (those are not counted as failures). */
  stop(): Promise<ViewerStats>;
}

/** How drill viewers behave unless told otherwise: a player's usual forward buffer, timeout and retries. */
export const DEFAULT_VIEWER_BEHAVIOUR = { maxBufferSeconds: 8, requestTimeoutMs: 4000, maxAttempts: 6, pathwayPenaltyMs: 10_000 } as const;

/** hls.js starts a live stream this many segments before the live edge. */
const LIVE_SYNC_SEGMENTS = 3;
const DEFAULT_STEERING_TTL_S = 300;

class RequestFailure extends Error {}

/** A failed request's reason in a few words: the error's message and, for a network error, its code (undici puts it on the cause). */
function failureReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : undefined;
  return detail === undefined ? error.message : `${error.message}: ${detail}`;
}

function validate(options: SyntheticViewerOptions): void {
  if (!URL.canParse(options.masterUrl)) throw new TypeError(`synthetic viewer: masterUrl is not a URL: ${options.masterUrl}`);
  for (const name of ['maxBufferSeconds', 'requestTimeoutMs', 'maxAttempts', 'pathwayPenaltyMs'] as const) {
    if (!(Number.isFinite(options[name]) && options[name] > 0)) throw new TypeError(`synthetic viewer: ${name} must be a positive number, got ${options[name]}`);
  }
  if (options.localAddress !== undefined && !isIPv4(options.localAddress)) throw new TypeError(`synthetic viewer: localAddress must be an IPv4 address, got "${options.localAddress}"`);
}

/** A fetch whose connections leave from `localAddress`; the agent is closed with the viewer. */
function fetcherFrom(localAddress: string | undefined): { fetch: (url: string, signal: AbortSignal) => Promise<Response>; close: () => Promise<void> } {
  if (localAddress === undefined) return { fetch: (url, signal) => fetch(url, { signal }), close: async () => {} };
  const agent = new Agent({ localAddress });
  let closing: Promise<void> | undefined;
  return {
    fetch: async (url, signal) => (await undiciFetch(url, { signal, dispatcher: agent })) as unknown as Response,
    close: () => (closing ??= agent.close()),
  };
}

export function startSyntheticViewer(options: SyntheticViewerOptions): SyntheticViewer {
  validate(options);
  const now = options.now ?? Date.now;
  const stopController = new AbortController();
  // Each request in flight and each wait listens for the stop: a handful at a time, by design.
  setMaxListeners(32, stopController.signal);
  const stopped = (): boolean => stopController.signal.aborted;
  const startedAt = now();
  const fetcher = fetcherFrom(options.localAddress);

  const counts = { requests: 0, failed: 0, failedSegments: 0, retried: 0, lost: 0, corrupt: 0, segments: 0, skippedSegments: 0, stalls: 0, stallMs: 0 };
  let firstFailureAt: number | undefined;
  let lastFailureAt: number | undefined;
  let startupMs: number | undefined;

  // Playback: media seconds buffered (bufferEnd) against the playhead moved by the wall clock.
  let position = 0;
  let bufferEnd = 0;
  let lastAdvance = 0;
  let stalledSince: number | undefined;
  const advance = (at: number): void => {
    if (startupMs === undefined || stalledSince !== undefined) return;
    position += (at - lastAdvance) / 1000;
    lastAdvance = at;
    if (position >= bufferEnd) {
      stalledSince = at - (position - bufferEnd) * 1000;
      position = bufferEnd;
    }
  };
  const buffered = (duration: number): void => {
    const at = now();
    advance(at);
    bufferEnd += duration;
    counts.segments++;
    if (startupMs === undefined) {
      startupMs = at - startedAt;
      lastAdvance = at;
    } else if (stalledSince !== undefined) {
      counts.stallMs += at - stalledSince;
      counts.stalls++;
      stalledSince = undefined;
      lastAdvance = at;
    }
  };

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (stopped()) return resolve();
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        stopController.signal.removeEventListener('abort', done);
        resolve();
      }
      stopController.signal.addEventListener('abort', done, { once: true });
    });

  /**
   * A request's bound: the stop or its timeout. A timer of its own, held until the request ends —
   * Node 20 may collect an AbortSignal.timeout() reachable only through AbortSignal.any(), and then
   * a request on a dead link hangs until TCP gives up (seen when a region is cut).
   */
  const bounded = async <T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new RequestFailure(`no answer within ${options.requestTimeoutMs} ms`)), options.requestTimeoutMs);
    const onStop = (): void => controller.abort();
    stopController.signal.addEventListener('abort', onStop, { once: true });
    try {
      return await run(controller.signal);
    } finally {
      clearTimeout(timer);
      stopController.signal.removeEventListener('abort', onStop);
    }
  };

  /** One request; only segments are verified against their ETag. */
  const fetchOnce = async (url: string, kind: ViewerRequestKind): Promise<{ body: Buffer; url: string }> => {
    counts.requests++;
    const startedAt = now();
    let ttfbMs: number | undefined;
    const report = (failure?: string): void => options.onRequest?.({ kind, url, startedAt, endedAt: now(), ttfbMs, ok: failure === undefined, ...(failure === undefined ? {} : { failure }) });
    try {
      const { response, body } = await bounded(async (signal) => {
        const answer = await fetcher.fetch(url, signal);
        ttfbMs = now() - startedAt;
        return { response: answer, body: Buffer.from(await answer.arrayBuffer()) };
      });
      if (!response.ok) throw new RequestFailure(`${response.status}`);
      if (kind === 'segment') {
        const verifier = createEtagVerifier(response.headers.get('etag') ?? undefined);
        verifier?.update(body);
        if (verifier && !verifier.matches()) {
          counts.corrupt++;
          throw new RequestFailure('bytes do not match the ETag');
        }
      }
      report();
      return { body, url: response.url };
    } catch (error) {
      if (!stopped()) report(failureReason(error));
      throw error;
    }
  };

  /** One object, retried on the next pathway after each failure; undefined when lost or stopped. */
  const fetchWithFailover = async (chooser: PathwayChooser | undefined, urlFor: (pathway: string) => string, kind: ViewerRequestKind): Promise<{ body: Buffer; url: string } | undefined> => {
    for (let attempt = 0; attempt < options.maxAttempts; attempt++) {
      if (stopped()) return undefined;
      const pathway = chooser?.current() ?? '.';
      if (attempt > 0) counts.retried++;
      try {
        return await fetchOnce(urlFor(pathway), kind);
      } catch {
        if (stopped()) return undefined;
        counts.failed++;
        if (kind === 'segment') counts.failedSegments++;
        firstFailureAt ??= now();
        lastFailureAt = now();
        chooser?.penalize(pathway);
        // The first retry goes at once to the next pathway; later ones back off.
        if (attempt > 0) await sleep(Math.min(1000, 250 * attempt));
      }
    }
    if (!stopped()) counts.lost++;
    return undefined;
  };

  let chooser: PathwayChooser | undefined;
  let master: MasterChoice | undefined;
  let playlist: MediaPlaylist | undefined;
  let nextSequence: number | undefined;

  const loadMaster = async (): Promise<void> => {
    while (!stopped() && !master) {
      const fetched = await fetchWithFailover(undefined, () => options.masterUrl, 'master');
      if (fetched) {
        try {
          master = chooseRendition(fetched.body.toString('utf8'), fetched.url, options.rendition);
        } catch {
          counts.failed++;
        }
      }
      if (!master) await sleep(1000);
    }
    if (!master) return;
    chooser = createPathwayChooser({ pathways: [...master.pathways.keys()], initial: master.steering?.pathwayId, penaltyMs: options.pathwayPenaltyMs, now });
  };

  const mediaUrl = (pathway: string): string => master!.pathways.get(pathway)!;

  const reloadPlaylist = async (): Promise<void> => {
    const fetched = await fetchWithFailover(chooser, mediaUrl, 'playlist');
    if (!fetched) return;
    try {
      playlist = readMediaPlaylist(fetched.body.toString('utf8'));
    } catch {
      counts.failed++;
      return;
    }
    const { segments, mediaSequence, ended } = playlist;
    if (nextSequence === undefined) {
      nextSequence = ended ? mediaSequence : mediaSequence + Math.max(0, segments.length - LIVE_SYNC_SEGMENTS);
    } else if (nextSequence < mediaSequence) {
      counts.skippedSegments += mediaSequence - nextSequence;
      nextSequence = mediaSequence;
    }
  };

  const playlistLoop = async (): Promise<void> => {
    while (!stopped()) {
      await reloadPlaylist();
      if (playlist?.ended) return;
      await sleep((playlist?.targetDuration ?? 1) * 1000);
    }
  };

  const segmentLoop = async (): Promise<void> => {
    while (!stopped()) {
      const list = playlist;
      if (!list || nextSequence === undefined) {
        await sleep(100);
        continue;
      }
      let segment = list.segments.find((candidate) => candidate.sequence === nextSequence);
      if (!segment && list.ended && nextSequence >= list.mediaSequence + list.segments.length) {
        nextSequence = list.mediaSequence; // VOD played to the end: loop, so a drill may run longer than the title
        segment = list.segments[0];
      }
      advance(now());
      if (!segment || bufferEnd - position + segment.duration > options.maxBufferSeconds) {
        await sleep(100);
        continue;
      }
      const base = segment.uri;
      const fetched = await fetchWithFailover(chooser, (pathway) => new URL(base, mediaUrl(pathway)).href, 'segment');
      if (fetched) {
        buffered(segment.duration);
        nextSequence = segment.sequence + 1;
      } else {
        await sleep(500);
      }
    }
  };

  const steeringLoop = async (): Promise<void> => {
    let reloadUri = master?.steering?.serverUri;
    while (!stopped() && reloadUri && chooser) {
      let ttlSeconds = DEFAULT_STEERING_TTL_S;
      try {
        const url = new URL(reloadUri);
        url.searchParams.set('_HLS_pathway', chooser.current());
        const { response, manifest } = await bounded(async (signal) => {
          const answer = await fetcher.fetch(url.href, signal);
          return { response: answer, manifest: (await answer.json()) as { TTL?: unknown; 'RELOAD-URI'?: unknown; 'PATHWAY-PRIORITY'?: unknown } };
        });
        if (response.ok) {
          if (Array.isArray(manifest['PATHWAY-PRIORITY'])) chooser.prioritize(manifest['PATHWAY-PRIORITY'].filter((id): id is string => typeof id === 'string'));
          if (typeof manifest.TTL === 'number' && manifest.TTL > 0) ttlSeconds = manifest.TTL;
          if (typeof manifest['RELOAD-URI'] === 'string') reloadUri = new URL(manifest['RELOAD-URI'], url).href;
        }
      } catch {
        // A player keeps its last priority when the steering server does not answer.
        ttlSeconds = Math.min(ttlSeconds, 2);
      }
      await sleep(ttlSeconds * 1000);
    }
  };

  const running = (async () => {
    await loadMaster();
    if (stopped()) return;
    await Promise.all([playlistLoop(), segmentLoop(), steeringLoop()]);
  })();

  const stats = (): ViewerStats => {
    const at = now();
    advance(at);
    return {
      id: options.id,
      startupMs,
      stallMs: counts.stallMs + (stalledSince === undefined ? 0 : at - stalledSince),
      stalls: counts.stalls + (stalledSince === undefined ? 0 : 1),
      stalled: stalledSince !== undefined,
      requests: counts.requests,
      failed: counts.failed,
      failedSegments: counts.failedSegments,
      retried: counts.retried,
      lost: counts.lost,
      corrupt: counts.corrupt,
      segments: counts.segments,
      skippedSegments: counts.skippedSegments,
      pathwaySwitches: chooser?.switches ?? 0,
      pathway: chooser?.current(),
      firstFailureAt,
      lastFailureAt,
    };
  };

  return {
    id: options.id,
    stats,
    stop: async () => {
      const final = stats();
      stopController.abort();
      await running;
      await fetcher.close();
      return final;
    },
  };
}
