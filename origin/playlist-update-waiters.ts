// Requests held until a live playlist changes in a way they wait for (LL-HLS blocking reloads and
// preload-hinted parts). The encoder writes the playlist into shared storage, possibly from another
// machine, so change is detected by polling the file's version (one stat per playlist per poll
// while anyone waits, never per request); each change is read once and offered to every waiter.
// Every waiter has a timer, the number held is capped, and both are visible in /metrics.
import { readFile, stat } from 'node:fs/promises';

export type HoldOutcome = 'ready' | 'timeout' | 'aborted';

export interface PlaylistUpdateWaitersOptions {
  /** Most requests held at once; one more is refused (the caller answers 503). */
  readonly maxHeld: number;
  /** How often a watched playlist's version is checked. */
  readonly pollMs: number;
  /** Called with +1/-1 as requests are held and let go, and with each ending. */
  readonly onHeld?: (delta: 1 | -1) => void;
  readonly onOutcome?: (outcome: HoldOutcome | 'full') => void;
}

export interface PlaylistUpdateWaiters {
  /**
   * Resolves 'ready' once the playlist at `path` (an absolute path already checked to be inside the
   * catalog) has text for which `isReady` is true, 'timeout' after `timeoutMs`, 'aborted' when
   * `signal` fires; returns 'full' at once when the cap is reached.
   */
  waitFor(path: string, isReady: (text: string) => boolean, timeoutMs: number, signal: AbortSignal): Promise<HoldOutcome | 'full'>;
  /** Requests held right now. */
  readonly held: () => number;
  /** Ends every hold ('aborted') and stops polling. */
  close(): void;
}

interface Waiter {
  readonly isReady: (text: string) => boolean;
  readonly settle: (outcome: HoldOutcome) => void;
}

interface Watch {
  readonly waiters: Set<Waiter>;
  readonly timer: NodeJS.Timeout;
  version: string | undefined;
  checking: boolean;
}

export function createPlaylistUpdateWaiters(options: PlaylistUpdateWaitersOptions): PlaylistUpdateWaiters {
  if (!Number.isInteger(options.maxHeld) || options.maxHeld < 0) throw new TypeError(`createPlaylistUpdateWaiters: maxHeld must be a whole number ≥ 0, got ${options.maxHeld}`);
  if (!Number.isInteger(options.pollMs) || options.pollMs < 1) throw new TypeError(`createPlaylistUpdateWaiters: pollMs must be a whole number ≥ 1, got ${options.pollMs}`);
  const watches = new Map<string, Watch>();
  let held = 0;

  const check = async (path: string, watch: Watch): Promise<void> => {
    if (watch.checking) return;
    watch.checking = true;
    try {
      const stats = await stat(path).catch(() => undefined);
      const version = stats && `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
      if (version === undefined || version === watch.version) return;
      const text = await readFile(path, 'utf8').catch(() => undefined);
      if (text === undefined) return;
      watch.version = version;
      for (const waiter of watch.waiters) if (waiter.isReady(text)) waiter.settle('ready');
    } finally {
      watch.checking = false;
    }
  };

  return {
    waitFor(path, isReady, timeoutMs, signal) {
      if (held >= options.maxHeld) {
        options.onOutcome?.('full');
        return Promise.resolve('full');
      }
      if (signal.aborted) return Promise.resolve('aborted');
      let watch = watches.get(path);
      if (!watch) {
        const created: Watch = { waiters: new Set(), timer: setInterval(() => void check(path, created), options.pollMs), version: undefined, checking: false };
        watch = created;
        watches.set(path, watch);
      }
      const owner = watch;
      // The next poll rereads the playlist even if unchanged since the last read: that read may be
      // newer than what the caller judged, and this waiter was not there to see it.
      owner.version = undefined;
      held++;
      options.onHeld?.(1);
      return new Promise((resolveHold) => {
        const timer = setTimeout(() => waiter.settle('timeout'), timeoutMs);
        const onAbort = (): void => waiter.settle('aborted');
        const waiter: Waiter = {
          isReady,
          settle: (outcome) => {
            if (!owner.waiters.delete(waiter)) return;
            clearTimeout(timer);
            signal.removeEventListener('abort', onAbort);
            held--;
            options.onHeld?.(-1);
            options.onOutcome?.(outcome);
            if (owner.waiters.size === 0) {
              clearInterval(owner.timer);
              watches.delete(path);
            }
            resolveHold(outcome);
          },
        };
        owner.waiters.add(waiter);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    },
    held: () => held,
    close() {
      for (const watch of [...watches.values()]) for (const waiter of [...watch.waiters]) waiter.settle('aborted');
    },
  };
}
