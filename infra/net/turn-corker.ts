// Writes made while handling one turn of the event loop go out together at its end. A proxy's
// write to a loopback or LAN peer costs the sender the peer's wake-up as well as its own send; made
// one at a time, with the work of the next request between them, each write finds its peer asleep
// again and pays that wake-up. Corked until the turn's I/O callbacks are done (setImmediate runs
// right after them), the turn's writes leave back to back and a peer woken by the first finds the
// rest ready. The cost is the rest of the turn's work added to a response's latency, which is
// small against a request's own, and nothing when there is one request per turn.
import type { Socket } from 'node:net';

export interface TurnCorker {
  /** Holds `socket`'s writes until the end of this turn (once per socket and turn). */
  cork(socket: Socket): void;
}

export function createTurnCorker(): TurnCorker {
  const corked = new Set<Socket>();
  const uncorkAll = (): void => {
    // uncork() flushes at once; a socket ended or destroyed meanwhile has flushed or dropped already.
    for (const socket of corked) socket.uncork();
    corked.clear();
  };
  return {
    cork(socket) {
      if (corked.has(socket)) return;
      if (corked.size === 0) setImmediate(uncorkAll);
      corked.add(socket);
      socket.cork();
    },
  };
}
