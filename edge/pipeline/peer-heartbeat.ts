// A peer that owns a key answers another peer's hop with `102 Processing` at once and again every
// PEER_HEARTBEAT_MS until its response head goes out. The asking peer then tells a cut-off owner
// (a region cut: its connection may still be accepted by a router or sit on a kept-alive socket)
// from one waiting on its own origins or holding a Low-Latency HLS request: silence for its
// --peer-alive-timeout means gone (upstream-client.ts aliveTimeoutMs), however long the answer
// itself may take. 1xx responses are for HTTP/1.1 and later only (RFC 9110 §15.2); a client must
// parse them even unasked, so an older peer's client only reads and drops them.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** How often an owner shows it is still at work on a peer's request; --peer-alive-timeout must allow a few. */
export const PEER_HEARTBEAT_MS = 250;
/** Four beats: a WAN round trip and a busy event loop do not make a live owner look gone. */
export const DEFAULT_PEER_ALIVE_TIMEOUT_MS = 1_000;
/** Two beats. */
export const MIN_PEER_ALIVE_TIMEOUT_MS = 2 * PEER_HEARTBEAT_MS;

export interface PeerHeartbeat {
  /** Sends 102 now and on every beat until `res` has its head written or is closed. */
  watch(req: IncomingMessage, res: ServerResponse): void;
  /** Peer requests being answered with heartbeats now. */
  readonly waiting: number;
  close(): void;
}

export function createPeerHeartbeat(intervalMs: number = PEER_HEARTBEAT_MS): PeerHeartbeat {
  const waiting = new Set<ServerResponse>();
  // One timer for every waiting request, running only while there is one.
  let timer: NodeJS.Timeout | undefined;
  const beat = (res: ServerResponse): void => {
    if (res.headersSent || res.destroyed || res.writableEnded) {
      waiting.delete(res);
      return;
    }
    res.writeProcessing();
  };
  const tick = (): void => {
    for (const res of waiting) beat(res);
    if (waiting.size === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };
  return {
    watch(req, res) {
      if (req.httpVersionMajor !== 1 || req.httpVersionMinor < 1) return;
      waiting.add(res);
      res.once('close', () => waiting.delete(res));
      beat(res);
      if (timer === undefined && waiting.size > 0) {
        timer = setInterval(tick, intervalMs);
        timer.unref();
      }
    },
    get waiting() {
      return waiting.size;
    },
    close() {
      clearInterval(timer);
      timer = undefined;
      waiting.clear();
    },
  };
}
