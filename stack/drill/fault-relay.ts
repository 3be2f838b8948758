// A small HTTP relay a drill puts in front of one origin replica to make it misbehave in a way a
// signal cannot: answer slowly (`slow`) or serve different bytes under the same headers and ETag
// (`corrupt`, a replica whose disk went bad). Control paths pass untouched so the replica's Consul
// check and /metrics stay truthful. Bounded: connections, and a timeout on every upstream request.
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type RelayMode = { readonly kind: 'slow'; readonly delayMs: number } | { readonly kind: 'corrupt' };

export interface FaultRelayOptions {
  /** The replica's base URL (http). */
  readonly upstream: string;
  readonly mode: RelayMode;
  /** Address to listen on; the edges must reach it there. */
  readonly host: string;
  readonly maxConnections?: number;
  readonly upstreamTimeoutMs?: number;
}

export interface FaultRelay {
  readonly url: string;
  /** Requests relayed with the fault applied. */
  readonly faulted: () => number;
  close(): Promise<void>;
}

const CONTROL_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** Same length, different bytes: every byte of the chunk inverted. */
function corrupted(chunk: Buffer): Buffer {
  const copy = Buffer.from(chunk);
  for (let i = 0; i < copy.length; i++) copy[i] = copy[i]! ^ 0xff;
  return copy;
}

export async function startFaultRelay(options: FaultRelayOptions): Promise<FaultRelay> {
  const upstream = new URL(options.upstream);
  if (upstream.protocol !== 'http:') throw new TypeError(`fault relay: upstream must be an http URL, got ${options.upstream}`);
  if (options.mode.kind === 'slow' && !(Number.isInteger(options.mode.delayMs) && options.mode.delayMs >= 0)) {
    throw new TypeError(`fault relay: delayMs must be a whole number ≥ 0, got ${options.mode.delayMs}`);
  }
  const timeoutMs = options.upstreamTimeoutMs ?? 30_000;
  const mode = options.mode;
  let faulted = 0;
  const open = new Set<ServerResponse>();

  const relay = (viewer: IncomingMessage, response: ServerResponse): void => {
    open.add(response);
    response.once('close', () => open.delete(response));
    const path = viewer.url ?? '/';
    const control = CONTROL_PATHS.has(path.split('?')[0]!);
    if (!control) faulted++;
    const headers = { ...viewer.headers, host: upstream.host };
    const outgoing = httpRequest({ host: upstream.hostname, port: upstream.port, method: viewer.method, path, headers, timeout: timeoutMs }, (answer) => {
      const send = (): void => {
        if (response.destroyed) {
          answer.destroy();
          return;
        }
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        if (control || mode.kind !== 'corrupt') answer.pipe(response);
        else {
          answer.on('data', (chunk: Buffer) => response.write(corrupted(chunk)));
          answer.once('end', () => response.end());
          answer.once('error', () => response.destroy());
        }
      };
      if (!control && mode.kind === 'slow') setTimeout(send, mode.delayMs);
      else send();
    });
    outgoing.once('timeout', () => outgoing.destroy(new Error('upstream timeout')));
    outgoing.once('error', () => {
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' }).end('fault relay: upstream failed\n');
      else response.destroy();
    });
    viewer.pipe(outgoing);
  };

  const server = createServer(relay);
  server.maxConnections = options.maxConnections ?? 512;
  server.headersTimeout = 10_000;
  server.requestTimeout = timeoutMs + (mode.kind === 'slow' ? mode.delayMs : 0) + 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    faulted: () => faulted,
    close: async () => {
      for (const response of open) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
