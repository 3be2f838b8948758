// The edge's client for whatever sits upstream of it — origin replicas, or in cluster mode the
// sibling worker owning a key (named apart from origin/, the server it usually talks to).
// Fetches objects from replicated upstreams: undici Pools (keep-alive) per replica, failover to the
// next replica on connect errors, timeouts and 5xx, one hedged request to a second replica when the
// first is slow to answer, and passive ejection of a replica that keeps failing, or whose body the
// caller found corrupt (longer each time in a row, until a body from it checks out); a request the
// upstream holds on purpose (Low-Latency HLS) is neither hedged nor blamed for its wait. When every replica
// has been tried and the last real answer was a 5xx, that answer is what the fetch resolves with
// (the origin's own status and body); it rejects only when no replica answered at all. A request
// with an unsafe method (RFC 9110 §9.2.1) streams its body to one replica, never retried or hedged:
// the body is gone once sent, and the origin may have acted on it.
// Requests are admitted by fetch-slots.ts (per replica and overall, a bounded wait queue beyond);
// a hedge is sent only when its first request was sent and a slot is free at once, never queued;
// and a fetch has a total deadline, its body included.
import type { Readable } from 'node:stream';
import { buildConnector, Pool, type Dispatcher } from 'undici';
import { EdgeError, UPSTREAM_RESET_CODE, upstreamError } from '../errors.js';
import { createFetchSlots, type SlotRejection } from './fetch-slots.js';
import { rendezvousScore } from '../../infra/hashing/rendezvous-hash.js';
import { clientTrust } from '../../infra/tls/tls-credentials.js';
import { upstreamFaultOf } from '../../infra/http/upstream-fault.js';

export interface UpstreamReplica {
  readonly id: string;
  /** Base URL, e.g. http://127.0.0.1:8091 */
  readonly url: string;
  /** Preference group, lowest first (a shield tier: own region 0, then by distance); default 0. */
  readonly rank?: number;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Readable;
  readonly replica: string;
  /** Epoch ms: request sent, response head received (for Age, RFC 9111 §4.2.3). */
  readonly requestTime: number;
  readonly responseTime: number;
  /** The response came from the hedged (second) request. */
  readonly hedged: boolean;
}

/** An interim (1xx) response an origin sent before its final one (RFC 9110 §15.2). */
export interface UpstreamInterim {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** How one attempt against one replica ended; printable, used as a metric label. */
export type AttemptOutcome = 'ok' | 'http-5xx' | 'connect' | 'timeout' | 'error' | 'cancelled';

/** Why a replica was ejected; printable, used as a metric label. */
export type EjectionReason = 'failures' | 'integrity';

export interface UpstreamObserver {
  onAttempt?(replica: string, outcome: AttemptOutcome, seconds: number): void;
  onHedge?(replica: string): void;
  onEject?(replica: string, reason: EjectionReason, forMs: number): void;
  /** A request refused a slot (the viewer gets 503 + Retry-After). */
  onReject?(reason: SlotRejection): void;
}

export interface UpstreamFetchOptions {
  /** End-to-end fields forwarded from the viewer's request (forwarded-request.ts). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly ifNoneMatch?: string;
  readonly ifModifiedSince?: string;
  readonly range?: string;
  /** Default GET. Any other method goes to one replica only, without failover or hedging. */
  readonly method?: string;
  /** The request body, streamed as it arrives (unsafe methods). */
  readonly body?: Readable;
  /** Interim responses (e.g. 103 Early Hints) of attempts still running, before the final one. */
  readonly onInterim?: (interim: UpstreamInterim) => void;
  /**
   * The upstream may hold this request on purpose (held-requests.ts) for up to this long before
   * its headers: it is never hedged, this replaces the headers timeout, and neither a timeout nor
   * a 5xx counts against the replica or moves on to another one (it would be held just the same).
   */
  readonly heldWaitMs?: number;
}

export interface UpstreamClientOptions {
  /** Start a second replica when the first has not answered headers in this time; 0 disables. */
  readonly hedgeDelayMs: number;
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  /** Longest pause between body chunks. */
  readonly bodyTimeoutMs: number;
  /** Requests in flight per replica (its Pool's connections); more wait in the queue. */
  readonly connectionsPerReplica: number;
  /** Requests in flight across every replica (default: no cap beyond the per-replica one). */
  readonly maxInFlight?: number;
  /** Requests waiting for a slot; beyond it, refused at once (default: no cap). */
  readonly maxQueued?: number;
  /** Longest wait for a slot (default: none). */
  readonly queueWaitMs?: number;
  /** Retry-After for a refused request, in seconds (default 1). */
  readonly retryAfterSeconds?: number;
  /** Total time for a fetch, from the call to the body's last byte; the body is cut after it (default: none). */
  readonly deadlineMs?: number;
  /** Consecutive failures that eject a replica … */
  readonly ejectAfterFailures: number;
  /** … for this long (it stays last in line, still used if nothing else is left). */
  readonly ejectForMs: number;
  /**
   * A replica ejected for a corrupt body is out for ejectForMs, doubled with each such ejection in a
   * row up to this, until a body from it checks out (default ejectForMs: no back-off).
   */
  readonly maxEjectForMs?: number;
  readonly userAgent?: string;
  /**
   * Bounded loads: a replica already holding more than this × the average requests in flight of
   * its rank group yields its keys to the next one in rendezvous order (default: no bound).
   */
  readonly balanceFactor?: number;
  /** Extra CA (PEM) trusted for https replicas, beside the system roots; certificates are always verified. */
  readonly ca?: string | undefined;
  /** Sent with every request (e.g. the sibling-worker marker). */
  readonly extraHeaders?: Readonly<Record<string, string>>;
  /**
   * The replicas are streamedge nodes (shields, peers, sibling workers): a 5xx of theirs naming a
   * fault upstream of them (infra/http/upstream-fault.ts) is not held against them. Never for
   * origins, which could use the field to dodge ejection.
   */
  readonly trustsUpstreamFault?: boolean;
  readonly observer?: UpstreamObserver;
}

export interface UpstreamClient {
  /** Replaces the replica list whole; pools of replicas that stay are kept. */
  setReplicas(replicas: readonly UpstreamReplica[]): void;
  readonly replicas: readonly UpstreamReplica[];
  /** Ids of replicas currently ejected. */
  readonly ejected: readonly string[];
  /** Requests holding a slot (sent), and requests waiting for one. */
  readonly inFlight: number;
  readonly queued: number;
  fetch(target: string, options?: UpstreamFetchOptions): Promise<UpstreamResponse>;
  /**
   * Ejects a replica at once: the caller found its body corrupt, which the client cannot see. An
   * answer from it does not end this ejection early (its heads are fine, its bytes are not). Returns
   * how long it is out, or undefined for a replica no longer listed.
   */
  eject(replicaId: string): number | undefined;
  /**
   * The caller checked a body from this replica and it was intact: its next corrupt body starts
   * the back-off afresh. Returns true when that ends a run of corrupt bodies (the replica recovered).
   */
  reportIntact(replicaId: string): boolean;
  close(): Promise<void>;
}

interface ReplicaState {
  /** Replaced when the same replica comes back with another rank. */
  replica: UpstreamReplica;
  readonly pool: Pool;
  failures: number;
  ejectedUntil: number;
  /** Corrupt bodies in a row (ejections by eject()); reset by reportIntact(). */
  corruptRun: number;
}

/** Drops a response body we will not read (undici reports the abort as an error; expected here). */
export function discardBody(body: Readable): void {
  body.on('error', () => {});
  body.destroy();
}

/**
 * A connector whose sockets report a reset as a failure. undici ends a body that has no framing
 * (close-delimited, RFC 9112 §6.3 item 8) normally when its connection is reset (ECONNRESET), as if
 * the origin had closed it cleanly: the bytes so far would pass for the whole response. A reset is
 * not a clean close, so its code is renamed before undici's own listener sees it, and the body fails
 * instead (the fill stores nothing and cuts the viewers streaming it). Framed bodies are unaffected:
 * one cut short by a reset already fails, and a reset after a complete one finds no response open.
 */
function resetReportingConnector(timeout: number, ca: string | undefined): buildConnector.connector {
  const connect = buildConnector({ timeout, ...clientTrust(ca) });
  return (connectOptions, callback) =>
    connect(connectOptions, (...args) => {
      const socket = args[1];
      socket?.prependListener('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ECONNRESET') error.code = UPSTREAM_RESET_CODE;
      });
      callback(...args);
    });
}

function positive(name: string, value: number, allowZero = false): void {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new TypeError(`origin client: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${value}`);
  }
}

export function createUpstreamClient(options: UpstreamClientOptions): UpstreamClient {
  positive('hedgeDelayMs', options.hedgeDelayMs, true);
  positive('connectTimeoutMs', options.connectTimeoutMs);
  positive('headersTimeoutMs', options.headersTimeoutMs);
  positive('bodyTimeoutMs', options.bodyTimeoutMs);
  positive('connectionsPerReplica', options.connectionsPerReplica);
  positive('ejectAfterFailures', options.ejectAfterFailures);
  positive('ejectForMs', options.ejectForMs, true);
  const maxEjectForMs = options.maxEjectForMs ?? options.ejectForMs;
  if (!(maxEjectForMs >= options.ejectForMs) || !Number.isFinite(maxEjectForMs)) throw new TypeError(`origin client: maxEjectForMs must be a number ≥ ejectForMs, got ${maxEjectForMs}`);
  if (options.balanceFactor !== undefined && !(options.balanceFactor >= 1)) throw new TypeError(`origin client: balanceFactor must be at least 1, got ${options.balanceFactor}`);
  const deadlineMs = options.deadlineMs ?? Infinity;
  if (Number.isNaN(deadlineMs) || deadlineMs <= 0) throw new TypeError(`origin client: deadlineMs must be a positive number, got ${deadlineMs}`);
  const observer = options.observer ?? {};
  const slots = createFetchSlots({
    perReplica: options.connectionsPerReplica,
    overall: options.maxInFlight ?? Infinity,
    maxQueued: options.maxQueued ?? Infinity,
    queueWaitMs: options.queueWaitMs ?? Infinity,
    retryAfterSeconds: options.retryAfterSeconds ?? 1,
    onReject: (reason) => observer.onReject?.(reason),
  });
  let states: ReplicaState[] = [];

  const newState = (replica: UpstreamReplica): ReplicaState => {
    const url = new URL(replica.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`origin client: replica ${replica.id} URL must be http(s), got ${replica.url}`);
    return {
      replica,
      pool: new Pool(url.origin, {
        connections: options.connectionsPerReplica,
        keepAliveTimeout: 30_000,
        connect: resetReportingConnector(options.connectTimeoutMs, options.ca),
        headersTimeout: options.headersTimeoutMs,
        bodyTimeout: options.bodyTimeoutMs,
      }),
      failures: 0,
      ejectedUntil: 0,
      corruptRun: 0,
    };
  };

  const succeeded = (state: ReplicaState): void => {
    state.failures = 0;
    // An answer shows a replica is up, not that its bytes are good: a corrupt-body ejection runs its time.
    if (state.corruptRun === 0) state.ejectedUntil = 0;
  };

  const failed = (state: ReplicaState): void => {
    state.failures++;
    if (state.failures >= options.ejectAfterFailures && state.ejectedUntil <= Date.now()) {
      state.ejectedUntil = Date.now() + options.ejectForMs;
      observer.onEject?.(state.replica.id, 'failures', options.ejectForMs);
    }
  };

  /** Whether a replica is over its bounded-load share of its rank group (always false without a factor). */
  const overloaded = (state: ReplicaState): boolean => {
    if (options.balanceFactor === undefined) return false;
    const group = states.filter((other) => (other.replica.rank ?? 0) === (state.replica.rank ?? 0));
    const total = group.reduce((sum, other) => sum + slots.inFlightOf(other.replica.id), 0);
    // +1: the request being placed, so an idle group never counts as overloaded.
    return slots.inFlightOf(state.replica.id) >= Math.ceil((options.balanceFactor * (total + 1)) / group.length);
  };

  /** Healthy replicas by rank, each rank in rendezvous order for this object (overloaded ones last), then the ejected ones. */
  const candidatesFor = (target: string): ReplicaState[] => {
    const now = Date.now();
    const ranked = states.map((state) => ({ state, ejected: state.ejectedUntil > now, over: overloaded(state), score: rendezvousScore(state.replica.id, target) }));
    return ranked
      .sort((a, b) => {
        if (a.ejected !== b.ejected) return a.ejected ? 1 : -1;
        const rank = (a.state.replica.rank ?? 0) - (b.state.replica.rank ?? 0);
        if (rank !== 0) return rank;
        if (a.over !== b.over) return a.over ? 1 : -1;
        // Rendezvous order gives each object a stable replica preference (the origin's page cache).
        return b.score - a.score;
      })
      .map(({ state }) => state);
  };

  const headersFor = (fetchOptions: UpstreamFetchOptions): Record<string, string> => {
    const headers: Record<string, string> = { 'user-agent': options.userAgent ?? 'streamedge-edge', ...fetchOptions.headers, ...options.extraHeaders };
    if (fetchOptions.ifNoneMatch) headers['if-none-match'] = fetchOptions.ifNoneMatch;
    if (fetchOptions.ifModifiedSince) headers['if-modified-since'] = fetchOptions.ifModifiedSince;
    if (fetchOptions.range) headers.range = fetchOptions.range;
    return headers;
  };

  const fetch = (target: string, fetchOptions: UpstreamFetchOptions = {}): Promise<UpstreamResponse> => {
    const method = fetchOptions.method ?? 'GET';
    const once = method !== 'GET' && method !== 'HEAD';
    const { heldWaitMs } = fetchOptions;
    if (heldWaitMs !== undefined && !(Number.isInteger(heldWaitMs) && heldWaitMs > 0)) throw new TypeError(`origin client: heldWaitMs must be a positive integer, got ${heldWaitMs}`);
    const held = heldWaitMs !== undefined;
    const candidates = once ? candidatesFor(target).slice(0, 1) : candidatesFor(target);
    const replicaCount = candidates.length;
    // A lone replica gets a second attempt: a keep-alive socket it closed at the very moment we
    // reused it fails the first try without saying anything about the replica.
    if (candidates.length === 1 && !once) candidates.push(candidates[0]!);
    if (candidates.length === 0) {
      return Promise.reject(new EdgeError('no origin replica available', { source: 'upstream', retryable: true, status: 503, reason: 'no-origin' }));
    }
    const headers = headersFor(fetchOptions);
    const { onInterim } = fetchOptions;
    return new Promise<UpstreamResponse>((resolve, reject) => {
      let next = 0;
      let running = 0;
      let settled = false;
      let lastError: EdgeError | undefined;
      // The latest 5xx a replica answered, kept unread in case no other replica does better.
      let last5xx: UpstreamResponse | undefined;
      const dropLast5xx = (): void => {
        if (last5xx) discardBody(last5xx.body);
        last5xx = undefined;
      };
      const controllers = new Set<AbortController>();
      let hedgeTimer: NodeJS.Timeout | undefined;
      let deadlineTimer: NodeJS.Timeout | undefined;
      let winner: UpstreamResponse | undefined;

      const settle = (): void => {
        settled = true;
        clearTimeout(hedgeTimer);
        for (const controller of controllers) controller.abort();
      };
      const fail = (error: EdgeError): void => {
        clearTimeout(deadlineTimer);
        reject(error);
      };
      const succeed = (response: UpstreamResponse): void => {
        winner = response;
        if (response.body.destroyed) clearTimeout(deadlineTimer);
        else response.body.once('close', () => clearTimeout(deadlineTimer));
        resolve(response);
      };

      if (Number.isFinite(deadlineMs)) {
        deadlineTimer = setTimeout(() => {
          const error = new EdgeError(`origin fetch exceeded its ${deadlineMs} ms deadline`, { source: 'upstream', retryable: true, status: 504, reason: 'deadline' });
          if (!settled) {
            dropLast5xx();
            settle();
            reject(error);
          } else if (winner && !winner.body.destroyed) {
            // Headers came in time, the body did not: cut it (its readers see the error).
            winner.body.destroy(error);
          }
        }, deadlineMs);
        deadlineTimer.unref();
      }

      const startHedgeTimer = (): void => {
        if (hedgeTimer !== undefined || !(options.hedgeDelayMs > 0 && replicaCount > 1 && !once && !held)) return;
        hedgeTimer = setTimeout(() => {
          if (!settled && running > 0 && next < candidates.length && launch(true)) {
            observer.onHedge?.(candidates[next - 1]!.replica.id);
          }
        }, options.hedgeDelayMs);
        hedgeTimer.unref();
      };

      /**
       * Takes the next candidate: a hedge only with a slot free now, and never to a replica out for
       * corrupt bytes (a fast answer from it would only be thrown away); anything else may wait in the queue.
       */
      const launch = (hedged: boolean): boolean => {
        if (settled || next >= candidates.length) return false;
        const state = candidates[next]!;
        if (hedged) {
          if (state.corruptRun > 0 && state.ejectedUntil > Date.now()) return false;
          const release = slots.tryAcquire(state.replica.id);
          if (!release) return false;
          next++;
          running++;
          send(state, release, true, new AbortController());
          return true;
        }
        next++;
        running++;
        const controller = new AbortController();
        controllers.add(controller);
        slots.acquire(state.replica.id, controller.signal).then(
          (release) => {
            if (settled) {
              release();
              running--;
              controllers.delete(controller);
              return;
            }
            send(state, release, false, controller);
          },
          (error: unknown) => {
            running--;
            controllers.delete(controller);
            if (settled) return;
            // The edge itself is saturated: no other replica would be admitted sooner.
            settle();
            if (last5xx) succeed(last5xx);
            else fail(upstreamError(error));
          },
        );
        return true;
      };

      const send = (state: ReplicaState, release: () => void, hedged: boolean, controller: AbortController): void => {
        controllers.add(controller);
        if (!hedged) startHedgeTimer();
        const requestTime = Date.now();
        const started = performance.now();
        const seconds = (): number => (performance.now() - started) / 1000;
        state.pool
          .request({
            path: target,
            method: once ? (method as Dispatcher.HttpMethod) : 'GET',
            headers,
            signal: controller.signal,
            ...(held ? { headersTimeout: heldWaitMs } : {}),
            ...(fetchOptions.body ? { body: fetchOptions.body } : {}),
            // undici hands every 1xx but 100 and 101 to onInfo (it fails the response on a 100 it did not ask for).
            ...(onInterim ? { onInfo: ({ statusCode, headers: fields }) => { if (!settled) onInterim({ status: statusCode, headers: fields }); } } : {}),
          })
          .then(
            (response) => {
              running--;
              controllers.delete(controller);
              // The slot is held until the body is read or dropped: that is when the connection is free.
              if (response.body.destroyed) release();
              else response.body.once('close', release);
              if (settled) {
                discardBody(response.body);
                observer.onAttempt?.(state.replica.id, 'cancelled', seconds());
                return;
              }
              if (response.statusCode >= 500) {
                dropLast5xx();
                last5xx = { status: response.statusCode, headers: response.headers, body: response.body, replica: state.replica.id, requestTime, responseTime: Date.now(), hedged };
                observer.onAttempt?.(state.replica.id, 'http-5xx', seconds());
                if (held) {
                  // The replica held the request and gave up on the object: another would too.
                  settle();
                  succeed(last5xx);
                  return;
                }
                // A shield (or peer) that names a fault upstream of it answered for the origins:
                // the next one is asked, but this one is not blamed (ejecting it would not help).
                if (!options.trustsUpstreamFault || upstreamFaultOf(response.headers) === undefined) failed(state);
                lastError = new EdgeError(`origin ${state.replica.id} answered ${response.statusCode}`, {
                  source: 'upstream', retryable: true, status: 502, reason: 'http-5xx',
                });
                tryNext();
                return;
              }
              succeeded(state);
              observer.onAttempt?.(state.replica.id, 'ok', seconds());
              dropLast5xx();
              settle();
              succeed({
                status: response.statusCode,
                headers: response.headers,
                body: response.body,
                replica: state.replica.id,
                requestTime,
                responseTime: Date.now(),
                hedged,
              });
            },
            (error: unknown) => {
              running--;
              controllers.delete(controller);
              release();
              if (settled) {
                observer.onAttempt?.(state.replica.id, 'cancelled', seconds());
                return;
              }
              lastError = upstreamError(error, state.replica.id);
              observer.onAttempt?.(state.replica.id, lastError.reason === 'timeout' ? 'timeout' : lastError.reason === 'connect' ? 'connect' : 'error', seconds());
              if (held && (error as { code?: string } | null)?.code === 'UND_ERR_HEADERS_TIMEOUT') {
                // The hold wait is spent: no time is left to try another replica, and no blame.
                settle();
                fail(lastError);
                return;
              }
              failed(state);
              tryNext();
            },
          );
      };

      const tryNext = (): void => {
        if (launch(false) || running > 0) return;
        settle();
        if (last5xx) {
          succeed(last5xx);
          return;
        }
        fail(lastError ?? new EdgeError('every origin replica failed', { source: 'upstream', retryable: true, status: 502, reason: 'error' }));
      };

      launch(false);
    });
  };

  return {
    setReplicas(replicas) {
      const seen = new Set<string>();
      for (const replica of replicas) {
        if (!replica.id || seen.has(replica.id)) throw new TypeError(`origin client: replica ids must be unique and non-empty, got "${replica.id}"`);
        seen.add(replica.id);
      }
      const previous = new Map(states.map((state) => [state.replica.id, state]));
      const nextStates = replicas.map((replica) => {
        const kept = previous.get(replica.id);
        if (kept && kept.replica.url === replica.url) {
          previous.delete(replica.id);
          kept.replica = replica;
          return kept;
        }
        return newState(replica);
      });
      states = nextStates;
      // Pools of replicas that left finish their in-flight requests, then close.
      for (const gone of previous.values()) void gone.pool.close().catch(() => {});
    },
    get replicas() {
      return states.map((state) => state.replica);
    },
    get ejected() {
      const now = Date.now();
      return states.filter((state) => state.ejectedUntil > now).map((state) => state.replica.id);
    },
    get inFlight() {
      return slots.inFlight;
    },
    get queued() {
      return slots.queued;
    },
    fetch,
    eject(replicaId) {
      const state = states.find((candidate) => candidate.replica.id === replicaId);
      if (!state) return undefined;
      const now = Date.now();
      // Bodies fetched before it went out (concurrent fills) add nothing: the back-off grows only when it comes back corrupt.
      if (state.corruptRun > 0 && state.ejectedUntil > now) return state.ejectedUntil - now;
      const forMs = Math.min(maxEjectForMs, options.ejectForMs * 2 ** state.corruptRun);
      state.corruptRun++;
      state.ejectedUntil = Math.max(state.ejectedUntil, now + forMs);
      observer.onEject?.(state.replica.id, 'integrity', forMs);
      return forMs;
    },
    reportIntact(replicaId) {
      const state = states.find((candidate) => candidate.replica.id === replicaId);
      if (!state || state.corruptRun === 0) return false;
      state.corruptRun = 0;
      return true;
    },
    async close() {
      const closing = states;
      states = [];
      await Promise.all(closing.map((state) => state.pool.destroy().catch(() => {})));
    },
  };
}
