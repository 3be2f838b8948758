import type { AddressInfo, Server as NetServer, Socket } from 'node:net';

/** node:http and https servers, and an http2 secure server (which lacks closeAllConnections). */
export type HttpListener = NetServer & { closeAllConnections?(): void; closeIdleConnections?(): void };

// Connections of servers that cannot cut them all themselves, for closeGracefully's deadline.
const trackedSockets = new WeakMap<NetServer, Set<Socket>>();

/** Starts listening and resolves with the bound address (port 0 picks a free port). */
export function listen(server: HttpListener, port: number, host: string): Promise<AddressInfo> {
  if (server.closeAllConnections === undefined && !trackedSockets.has(server)) {
    const sockets = new Set<Socket>();
    trackedSockets.set(server, sockets);
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
  }
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

/**
 * Stops accepting, lets in-flight responses finish, and closes idle keep-alive sockets (an http2
 * server sends its sessions GOAWAY); after `graceMs` any connection still open is cut so shutdown
 * is bounded.
 */
export function closeGracefully(server: HttpListener, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    const cutAll = (): void => {
      if (server.closeAllConnections) server.closeAllConnections();
      else for (const socket of trackedSockets.get(server) ?? []) socket.destroy();
    };
    const timer = setTimeout(cutAll, graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections?.();
  });
}

/** Resolves on the first SIGTERM or SIGINT, so a command can run its own orderly shutdown. */
export function waitForShutdownSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
