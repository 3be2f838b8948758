// Admission for origin requests: at most so many in flight per replica and overall, the rest in a
// bounded FIFO queue with a wait limit. undici's own Pool queue is unbounded; requests reach a
// Pool only once they hold a slot here, so the Pool (sized to the per-replica cap) never queues.
import { EdgeError } from '../errors.js';

/** Why a request never got a slot; printable, used as a metric label. */
export type SlotRejection = 'queue-full' | 'queue-timeout';

export interface FetchSlotsOptions {
  readonly perReplica: number;
  /** Across every replica; Infinity for none. */
  readonly overall: number;
  /** Requests allowed to wait for a slot; beyond it they are refused at once. */
  readonly maxQueued: number;
  /** Longest wait for a slot. */
  readonly queueWaitMs: number;
  /** Seconds a refused viewer is told to wait (Retry-After). */
  readonly retryAfterSeconds: number;
  readonly onReject?: (reason: SlotRejection) => void;
}

/** Gives the slot back; safe to call more than once. */
export type ReleaseSlot = () => void;

export interface FetchSlots {
  /** A slot for this replica now, or undefined (no waiting: hedges). */
  tryAcquire(replica: string): ReleaseSlot | undefined;
  /** A slot for this replica, waiting in the queue if need be; rejects with a 503 EdgeError. */
  acquire(replica: string, signal?: AbortSignal): Promise<ReleaseSlot>;
  readonly inFlight: number;
  readonly queued: number;
  /** Slots this replica holds now. */
  inFlightOf(replica: string): number;
}

interface Waiter {
  readonly replica: string;
  readonly grant: (release: ReleaseSlot) => void;
}

/** The edge's own refusal: the origin is not at fault, and a little later may well succeed. */
export function originBusyError(reason: SlotRejection, retryAfterSeconds: number): EdgeError {
  return new EdgeError(reason === 'queue-full' ? 'too many origin requests waiting' : 'waited too long for an origin connection', {
    source: 'internal', retryable: true, status: 503, reason: `origin-busy-${reason}`, retryAfterSeconds,
  });
}

export function createFetchSlots(options: FetchSlotsOptions): FetchSlots {
  for (const name of ['perReplica', 'overall', 'maxQueued', 'queueWaitMs', 'retryAfterSeconds'] as const) {
    const value = options[name];
    const allowZero = name === 'maxQueued';
    if (Number.isNaN(value) || value < 0 || (!allowZero && value === 0)) {
      throw new TypeError(`origin client: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${value}`);
    }
  }
  const perReplica = new Map<string, number>();
  let inFlight = 0;
  const queue: Waiter[] = [];

  const free = (replica: string): boolean => inFlight < options.overall && (perReplica.get(replica) ?? 0) < options.perReplica;

  const take = (replica: string): ReleaseSlot => {
    inFlight++;
    perReplica.set(replica, (perReplica.get(replica) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      inFlight--;
      const left = perReplica.get(replica)! - 1;
      if (left === 0) perReplica.delete(replica);
      else perReplica.set(replica, left);
      admit();
    };
  };

  /** Grants freed slots to the oldest waiters whose replica has room. */
  const admit = (): void => {
    for (let i = 0; i < queue.length && inFlight < options.overall; ) {
      const waiter = queue[i]!;
      if (free(waiter.replica)) {
        queue.splice(i, 1);
        waiter.grant(take(waiter.replica));
      } else {
        i++;
      }
    }
  };

  return {
    tryAcquire(replica) {
      return free(replica) && queue.length === 0 ? take(replica) : undefined;
    },
    acquire(replica, signal) {
      if (free(replica) && !queue.some((waiter) => waiter.replica === replica)) return Promise.resolve(take(replica));
      if (queue.length >= options.maxQueued) {
        options.onReject?.('queue-full');
        return Promise.reject(originBusyError('queue-full', options.retryAfterSeconds));
      }
      return new Promise<ReleaseSlot>((resolve, reject) => {
        const leave = (): boolean => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', aborted);
          const at = queue.indexOf(waiter);
          if (at < 0) return false;
          queue.splice(at, 1);
          return true;
        };
        const waiter: Waiter = {
          replica,
          grant: (release) => {
            leave();
            resolve(release);
          },
        };
        const timer = setTimeout(() => {
          if (!leave()) return;
          options.onReject?.('queue-timeout');
          reject(originBusyError('queue-timeout', options.retryAfterSeconds));
        }, Math.min(options.queueWaitMs, 2 ** 31 - 1));
        timer.unref();
        const aborted = (): void => {
          if (leave()) reject(signal!.reason as Error);
        };
        signal?.addEventListener('abort', aborted, { once: true });
        queue.push(waiter);
      });
    },
    get inFlight() {
      return inFlight;
    },
    get queued() {
      return queue.length;
    },
    inFlightOf: (replica) => perReplica.get(replica) ?? 0,
  };
}
