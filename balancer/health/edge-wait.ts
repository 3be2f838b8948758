// A request waiting for an edge's response headers says nothing, by its slowness alone, about the
// edge: a cold object or master playlist has the edge waiting on its origin. So past the response
// timeout the edge's own /healthz decides: a failing probe ejects it and the request moves on; a
// passing one means the edge is alive and its origin is slow, and the wait goes on (the probe
// asked again every second) up to a longest wait, which blames nobody.

import type { EdgeNode } from '../discovery/edge-node.js';
import type { PassiveHealth } from './passive-health.js';

/** How a wait ended other than with headers: the edge failed its probe, or the longest wait ran out. */
export type EdgeWaitEnd = 'edge-down' | 'waited-too-long';

export interface EdgeWaitOptions {
  readonly health: PassiveHealth;
  /** No headers by then: the edge's /healthz is asked whether the edge itself is alive. */
  readonly responseTimeoutMs: number;
  /** The longest wait for headers from an edge that keeps passing its probe. */
  readonly maxWaitMs: number;
}

export interface EdgeWait {
  /** Headers came (or the request ended otherwise): no more probes. */
  stop(): void;
  /** The wait outlived the response timeout (so its edge was probed). */
  readonly stalled: boolean;
}

const RECHECK_MS = 1_000;

export function validateEdgeWaitOptions(options: EdgeWaitOptions): void {
  if (!(options.responseTimeoutMs > 0) || !(options.maxWaitMs >= options.responseTimeoutMs)) {
    throw new TypeError(`edge wait: responseTimeoutMs must be > 0 and ≤ maxWaitMs, got ${options.responseTimeoutMs} / ${options.maxWaitMs}`);
  }
}

/** Watches one request's wait on `edge`; `onEnd` runs at most once, never after stop(). */
export function watchEdgeWait(options: EdgeWaitOptions, edge: EdgeNode, onEnd: (end: EdgeWaitEnd) => void): EdgeWait {
  let stopped = false;
  let probeTimer: NodeJS.Timeout | undefined;
  // Armed only once the wait stalls: nearly every request has its headers before that, and one
  // timer per proxied request costs less than two.
  let capTimer: NodeJS.Timeout | undefined;
  // A plain object, not one with a getter: one is made per proxied request.
  const wait = { stalled: false, stop };
  function stop(): void {
    stopped = true;
    clearTimeout(probeTimer);
    clearTimeout(capTimer);
  }
  const end = (kind: EdgeWaitEnd): void => {
    if (stopped) return;
    stop();
    onEnd(kind);
  };
  const check = async (): Promise<void> => {
    if (stopped) return;
    if (!wait.stalled) {
      wait.stalled = true;
      capTimer = setTimeout(() => end('waited-too-long'), options.maxWaitMs - options.responseTimeoutMs);
    }
    const alive = await options.health.confirm(edge);
    if (stopped) return;
    if (!alive) end('edge-down');
    else probeTimer = setTimeout(() => void check(), Math.min(RECHECK_MS, options.responseTimeoutMs));
  };
  probeTimer = setTimeout(() => void check(), options.responseTimeoutMs);
  return wait;
}
