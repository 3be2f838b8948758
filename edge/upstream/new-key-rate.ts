// Junk-URL floods: negative caching stops a repeated made-up URL, not 50,000 different ones. A token
// bucket bounds how many keys with nothing cached (no entry, no stale copy, no fetch under way) this
// process starts fetching per second; revalidations of what it holds are never limited.
import { EdgeError } from '../errors.js';

export interface NewKeyRate {
  /** Takes one token if there is one. */
  tryTake(): boolean;
}

export interface NewKeyRateOptions {
  /** Tokens per second; 0 = no limit. */
  readonly perSecond: number;
  /** Bucket size (a burst allowed at once). */
  readonly burst: number;
  readonly now?: () => number;
}

export function createNewKeyRate(options: NewKeyRateOptions): NewKeyRate {
  if (!Number.isFinite(options.perSecond) || options.perSecond < 0) throw new TypeError(`new-key rate: perSecond must be a non-negative number, got ${options.perSecond}`);
  if (options.perSecond === 0) return { tryTake: () => true };
  if (!Number.isFinite(options.burst) || options.burst < 1) throw new TypeError(`new-key rate: burst must be ≥ 1, got ${options.burst}`);
  const now = options.now ?? (() => performance.now());
  let tokens = options.burst;
  let at = now();
  return {
    tryTake() {
      const time = now();
      tokens = Math.min(options.burst, tokens + ((time - at) / 1000) * options.perSecond);
      at = time;
      if (tokens < 1) return false;
      tokens--;
      return true;
    },
  };
}

/** The edge's own refusal of one more uncached key this second. */
export function newKeyRateError(): EdgeError {
  return new EdgeError('too many uncached objects asked for at once', { source: 'internal', retryable: true, status: 503, reason: 'new-key-rate', retryAfterSeconds: 1 });
}
