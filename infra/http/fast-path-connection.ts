// A fast path (the edge's hits, the balancer's proxied GETs) serves a connection with its own
// listeners until it meets a request it does not answer; then node:http takes the connection over.
import type { Socket } from 'node:net';

export type ConnectionListeners = readonly (readonly [string, ((chunk: Buffer) => void) | (() => void)])[];

export interface FastPathExits {
  /** The connection closed: the fast path's listeners and timeout come off. */
  release(): void;
  /** node:http takes the connection, its unread bytes first, reading again if paused. */
  handOver(): void;
}

/** `forget` drops the connection from the fast path's own list; `unread` gives the bytes it holds. */
export function fastPathExits(socket: Socket, listeners: () => ConnectionListeners, unread: () => Buffer, forget: () => void, handOver: (socket: Socket) => void): FastPathExits {
  const release = (): void => {
    forget();
    for (const [event, listener] of listeners()) socket.off(event, listener);
    socket.setTimeout(0);
  };
  return {
    release,
    handOver() {
      release();
      const bytes = unread();
      if (socket.readableEnded) {
        // The client sent its last bytes and ended its side (a pipelining client that half-closes):
        // nothing can be put back in an ended stream, so node:http is given what it would have
        // read, those bytes and then the end.
        handOver(socket);
        if (bytes.length > 0) socket.emit('data', bytes);
        socket.emit('end');
        return;
      }
      // Unread bytes go back in front of the stream for node:http's parser.
      if (bytes.length > 0) socket.unshift(bytes);
      if (socket.isPaused()) socket.resume();
      handOver(socket);
    },
  };
}
