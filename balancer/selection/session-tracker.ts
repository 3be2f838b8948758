import type { EdgeNode } from '../discovery/edge-node.js';
import type { PathwayThroughput } from '../steering/steering-manifest.js';

/**
 * Active sessions, the load that bounded-load hashing balances.
 *
 * HLS viewers hold no connection to the balancer, so a session is a (viewer, asset) pair seen
 * within the last `ttlMs`: in steering mode the viewer is the session id carried in the steering
 * URI, refreshed by every steering-manifest reload (every TTL seconds); in redirect and proxy
 * mode it is the client address plus the asset, refreshed by every playlist or segment request.
 * A session sticks to the edge it was given while that edge stays available and within its share
 * (see boundedLoadOrder), so its cache stays warm.
 */
export interface Session {
  readonly key: string;
  readonly assetKey: string;
  edgeId: string;
  lastSeen: number;
  /** Edges this viewer reported failing or slow, demoted until the given epoch ms. */
  readonly demoted: Map<string, number>;
  /** Steering only: the pathways its master playlist carries, and the one we last put first. */
  pathways?: readonly string[];
  advertised?: string;
  /** Steering only: the viewer's latest reported throughput per pathway (those in its playlist). */
  readonly throughput: Map<string, PathwayThroughput>;
}

export interface SessionTrackerOptions {
  readonly ttlMs: number;
  /** Oldest sessions are forgotten beyond this many, so a flood of viewers cannot exhaust memory. */
  readonly maxSessions: number;
  /** Demoted edges one session remembers (default 16); the oldest makes way, so a viewer cannot grow it. */
  readonly maxDemotedPerSession?: number;
  readonly now?: () => number;
}

export interface SessionTracker {
  /** Active sessions per edge id (expired sessions are dropped first). */
  loads(): ReadonlyMap<string, number>;
  get(key: string): Session | undefined;
  /** Records that `key` is watching `assetKey` on `edgeId` now. */
  assign(key: string, assetKey: string, edgeId: string): Session;
  demote(key: string, edgeId: string, forMs: number): void;
  readonly size: number;
}

export function createSessionTracker(options: SessionTrackerOptions): SessionTracker {
  if (!(options.ttlMs > 0)) throw new TypeError(`ttlMs must be > 0, got ${options.ttlMs}`);
  if (!Number.isInteger(options.maxSessions) || options.maxSessions < 1) {
    throw new TypeError(`maxSessions must be a positive integer, got ${options.maxSessions}`);
  }
  const maxDemoted = options.maxDemotedPerSession ?? 16;
  if (!Number.isInteger(maxDemoted) || maxDemoted < 1) throw new TypeError(`maxDemotedPerSession must be a positive integer, got ${maxDemoted}`);
  const now = options.now ?? Date.now;
  // Insertion order is last-seen order: a touched session is re-inserted at the end.
  const sessions = new Map<string, Session>();
  const loads = new Map<string, number>();

  const adjust = (edgeId: string, delta: number): void => {
    const next = (loads.get(edgeId) ?? 0) + delta;
    if (next > 0) loads.set(edgeId, next);
    else loads.delete(edgeId);
  };
  const remove = (session: Session): void => {
    sessions.delete(session.key);
    adjust(session.edgeId, -1);
  };
  const expire = (): void => {
    const cutoff = now() - options.ttlMs;
    for (const session of sessions.values()) {
      if (session.lastSeen > cutoff && sessions.size <= options.maxSessions) break;
      remove(session);
    }
  };

  return {
    loads() {
      expire();
      return loads;
    },
    get(key) {
      expire();
      return sessions.get(key);
    },
    assign(key, assetKey, edgeId) {
      const existing = sessions.get(key);
      const session: Session = existing ?? { key, assetKey, edgeId, lastSeen: 0, demoted: new Map(), throughput: new Map() };
      if (existing) {
        sessions.delete(key);
        if (existing.edgeId !== edgeId) {
          adjust(existing.edgeId, -1);
          adjust(edgeId, 1);
          session.edgeId = edgeId;
        }
      } else {
        adjust(edgeId, 1);
      }
      session.lastSeen = now();
      sessions.set(key, session);
      expire();
      return session;
    },
    demote(key, edgeId, forMs) {
      const demoted = sessions.get(key)?.demoted;
      if (!demoted) return;
      const at = now();
      for (const [id, until] of demoted) if (until <= at) demoted.delete(id);
      // Re-inserted, so insertion order is demotion order and the first one is the oldest.
      demoted.delete(edgeId);
      if (demoted.size >= maxDemoted) demoted.delete(demoted.keys().next().value!);
      demoted.set(edgeId, at + forMs);
    },
    get size() {
      expire();
      return sessions.size;
    },
  };
}

/** Whether this viewer reported `edgeId` failing or slow and the demotion still lasts at `at`. */
export function isDemoted(session: Session | undefined, edgeId: string, at: number): boolean {
  return (session?.demoted.get(edgeId) ?? 0) > at;
}

/** Edges this viewer reported failing or slow go to the back while their demotion lasts. */
export function demotedLast(candidates: readonly EdgeNode[], session: Session | undefined, at: number): EdgeNode[] {
  if (!session) return [...candidates];
  return [...candidates.filter((edge) => !isDemoted(session, edge.id, at)), ...candidates.filter((edge) => isDemoted(session, edge.id, at))];
}
