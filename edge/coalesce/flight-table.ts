// Request coalescing (after Pingora's cache lock and undici's deduplication handler): the first
// request for a key starts one upstream "flight"; every concurrent request for the key becomes a
// reader of that flight. The flight broadcasts the response head and then each body chunk as it
// arrives, replaying earlier chunks to late joiners, so time to first byte never waits for the
// whole object. Every ending has a name. Interim messages before the head (`I`, e.g. an HTTP 103)
// go to the readers waiting at the time and are never replayed. A writer whose body turned out bad
// may start over from another upstream (restart): readers that cannot take back what they sent end,
// the others wait for the new head.

/**
 * - done: the body arrived complete and verified.
 * - gave-up: the body arrived complete, but the writer decided not to store it (too large, uncacheable).
 * - transient-error: the upstream failed (before or during the body); readers fall back (stale, 502, abort).
 * - wait-timeout: a reader waited too long for the head and goes its own way.
 */
export type FlightOutcome = 'done' | 'gave-up' | 'transient-error' | 'wait-timeout';

export interface FlightListener<H, I = never> {
  /** An interim message before the head, for readers waiting now (later joiners never see it). */
  onInterim?(interim: I): void;
  onHead(head: H): void;
  onData(chunk: Buffer): void;
  onEnd(outcome: FlightOutcome, error?: Error): void;
  /**
   * The head and body so far are withdrawn and the writer fetches the object again. True: this
   * reader has sent nothing of them yet and waits for the new head; false (or absent): it ends
   * with transient-error.
   */
  onRestart?(): boolean;
  /** True while this reader cannot take more data (its socket buffer is full). */
  congested?(): boolean;
}

export interface Subscription {
  /** Stop receiving (e.g. the viewer went away); the flight carries on for the others. */
  cancel(): void;
}

type FlightState = 'waiting' | 'streaming' | 'ended';

/** Called when a reader's callback throws; that reader is dropped, the flight goes on. */
export type ListenerErrorHandler = (error: unknown, key: string) => void;

export class Flight<H, I = never> {
  readonly key: string;
  #state: FlightState = 'waiting';
  #head: H | undefined;
  #chunks: Buffer[] | undefined = [];
  #bytes = 0;
  #outcome: FlightOutcome | undefined;
  #error: Error | undefined;
  #purged = false;
  readonly #listeners = new Set<FlightListener<H, I>>();
  /** Per reader: clears its wait-for-head timer. */
  readonly #timers = new Map<FlightListener<H, I>, () => void>();
  /** Readers whose wait for the head is bounded (every one but the request that started the flight). */
  readonly #waitLimited = new Set<FlightListener<H, I>>();
  readonly #onClose: (flight: Flight<H, I>) => void;
  readonly #waitTimeoutMs: number;
  readonly #onListenerError: ListenerErrorHandler;

  constructor(key: string, waitTimeoutMs: number, onClose: (flight: Flight<H, I>) => void, onListenerError: ListenerErrorHandler) {
    this.key = key;
    this.#waitTimeoutMs = waitTimeoutMs;
    this.#onClose = onClose;
    this.#onListenerError = onListenerError;
  }

  /** One reader's failure must not break the writer or the other readers. */
  #deliver(listener: FlightListener<H, I>, call: (listener: FlightListener<H, I>) => void): void {
    try {
      call(listener);
    } catch (error) {
      this.#listeners.delete(listener);
      this.#timers.get(listener)?.();
      this.#timers.delete(listener);
      this.#waitLimited.delete(listener);
      this.#onListenerError(error, this.key);
    }
  }

  get state(): FlightState {
    return this.#state;
  }

  get outcome(): FlightOutcome | undefined {
    return this.#outcome;
  }

  get readers(): number {
    return this.#listeners.size;
  }

  /** Bytes of body broadcast so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Whether a new request may still join (replay from the start is possible). */
  get joinable(): boolean {
    return this.#state !== 'ended' && this.#chunks !== undefined;
  }

  /**
   * Adds a reader. `waitLimited: false` is for the request that started the flight: it is bounded
   * by the origin timeouts instead, and must not abandon its own fetch.
   */
  subscribe(listener: FlightListener<H, I>, options: { waitLimited?: boolean } = {}): Subscription {
    if (!this.joinable) throw new Error(`flight ${this.key} is not joinable`);
    this.#listeners.add(listener);
    if (options.waitLimited !== false) this.#waitLimited.add(listener);
    if (this.#state !== 'waiting') {
      listener.onHead(this.#head as H);
      for (const chunk of this.#chunks!) listener.onData(chunk);
    } else {
      this.#awaitHead(listener);
    }
    return {
      cancel: () => {
        this.#timers.get(listener)?.();
        this.#timers.delete(listener);
        this.#waitLimited.delete(listener);
        this.#listeners.delete(listener);
      },
    };
  }

  /** Bounds a wait-limited reader's wait for the head: past it, the reader goes its own way. */
  #awaitHead(listener: FlightListener<H, I>): void {
    if (!this.#waitLimited.has(listener)) return;
    const timer = setTimeout(() => {
      this.#timers.delete(listener);
      this.#waitLimited.delete(listener);
      if (this.#state === 'waiting' && this.#listeners.delete(listener)) listener.onEnd('wait-timeout');
    }, this.#waitTimeoutMs);
    timer.unref();
    this.#timers.set(listener, () => clearTimeout(timer));
  }

  /** Writer: an interim message before the head, delivered to the readers waiting now, kept by none. */
  publishInterim(interim: I): void {
    if (this.#state !== 'waiting') return;
    for (const listener of [...this.#listeners]) this.#deliver(listener, (l) => l.onInterim?.(interim));
  }

  /** Writer: the response head is known; readers start their responses. */
  publishHead(head: H): void {
    if (this.#state !== 'waiting') throw new Error(`flight ${this.key}: head published twice`);
    this.#state = 'streaming';
    this.#head = head;
    for (const clear of this.#timers.values()) clear();
    for (const listener of [...this.#listeners]) this.#deliver(listener, (l) => l.onHead(head));
  }

  /** Writer: one more body chunk, delivered to every reader now and replayed to later joiners. */
  publishChunk(chunk: Buffer): void {
    if (this.#state !== 'streaming') throw new Error(`flight ${this.key}: chunk outside streaming`);
    this.#bytes += chunk.length;
    this.#chunks?.push(chunk);
    for (const listener of [...this.#listeners]) this.#deliver(listener, (l) => l.onData(chunk));
  }

  /**
   * Writer: the body will not be kept (too large to replay); the flight leaves the table so new
   * requests start their own, while current readers keep streaming.
   */
  closeToNewReaders(): void {
    if (this.#chunks === undefined) return;
    this.#chunks = undefined;
    this.#onClose(this);
  }

  /**
   * Purge: the cache was told to forget this key while its fetch was under way, so what the fetch
   * brings must not be stored (it would undo the purge). Current readers keep streaming; new
   * requests start their own fetch.
   */
  purge(): void {
    this.#purged = true;
    this.closeToNewReaders();
  }

  get purged(): boolean {
    return this.#purged;
  }

  /**
   * Writer: the body broadcast so far is bad (it failed its integrity check) and the writer fetches
   * the object again. Readers that already answered from it end with transient-error (their
   * viewers are cut, never handed wrong bytes as a whole response); the rest, and requests joining
   * from now on, wait for the new head as at the start. Only a joinable flight can start over.
   */
  restart(error: Error): void {
    if (this.#state !== 'streaming' || !this.joinable) throw new Error(`flight ${this.key}: only a joinable streaming flight can restart`);
    this.#state = 'waiting';
    this.#head = undefined;
    this.#chunks = [];
    this.#bytes = 0;
    for (const listener of [...this.#listeners]) {
      let stays = false;
      this.#deliver(listener, (l) => (stays = l.onRestart?.() === true));
      if (!this.#listeners.has(listener)) continue;
      if (stays) {
        this.#awaitHead(listener);
        continue;
      }
      this.#listeners.delete(listener);
      this.#waitLimited.delete(listener);
      this.#deliver(listener, (l) => l.onEnd('transient-error', error));
    }
  }

  /** Whether any reader is backed up; the writer may slow down for unbounded streams. */
  congested(): boolean {
    for (const listener of this.#listeners) if (listener.congested?.()) return true;
    return false;
  }

  /** Writer: the flight is over; every reader learns how. */
  finish(outcome: Exclude<FlightOutcome, 'wait-timeout'>, error?: Error): void {
    if (this.#state === 'ended') return;
    this.#state = 'ended';
    this.#outcome = outcome;
    this.#error = error;
    this.#chunks = undefined;
    for (const clear of this.#timers.values()) clear();
    this.#timers.clear();
    this.#waitLimited.clear();
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    this.#onClose(this);
    for (const listener of listeners) this.#deliver(listener, (l) => l.onEnd(outcome, error));
  }

  get error(): Error | undefined {
    return this.#error;
  }
}

export interface FlightTableOptions {
  /** How long a reader waits for the writer's response head before giving up on it. */
  readonly waitTimeoutMs: number;
  readonly onListenerError?: ListenerErrorHandler;
}

/** The in-flight upstream fetches by cache key. */
export class FlightTable<H, I = never> {
  readonly #flights = new Map<string, Flight<H, I>>();
  readonly #waitTimeoutMs: number;
  readonly #onListenerError: ListenerErrorHandler;

  constructor(options: FlightTableOptions) {
    if (!Number.isFinite(options.waitTimeoutMs) || options.waitTimeoutMs <= 0) {
      throw new TypeError(`flight table: waitTimeoutMs must be a positive number, got ${options.waitTimeoutMs}`);
    }
    this.#waitTimeoutMs = options.waitTimeoutMs;
    this.#onListenerError = options.onListenerError ?? (() => {});
  }

  /** The joinable flight for a key, if one is under way. */
  get(key: string): Flight<H, I> | undefined {
    const flight = this.#flights.get(key);
    return flight?.joinable ? flight : undefined;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /**
   * Returns the flight to read from, creating it when none is joinable; `writer` is true for the
   * caller that must run the upstream fetch.
   */
  acquire(key: string): { flight: Flight<H, I>; writer: boolean } {
    const existing = this.get(key);
    if (existing) return { flight: existing, writer: false };
    const flight = new Flight<H, I>(
      key,
      this.#waitTimeoutMs,
      (closed) => {
        if (this.#flights.get(key) === closed) this.#flights.delete(key);
      },
      this.#onListenerError,
    );
    this.#flights.set(key, flight);
    return { flight, writer: true };
  }

  /** Purges every flight under way whose key matches; returns how many. */
  purgeMatching(matches: (key: string) => boolean): number {
    let count = 0;
    for (const flight of [...this.#flights.values()]) {
      if (!matches(flight.key)) continue;
      flight.purge();
      count++;
    }
    return count;
  }

  get size(): number {
    return this.#flights.size;
  }
}
