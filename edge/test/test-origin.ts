// A small in-process origin on port 0 whose answers each test scripts, to inject faults the real
// origin never produces (truncation, resets, slowness, wrong ETags, 5xx).
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface TestOrigin {
  readonly url: string;
  /** Requests seen per path (query included). */
  readonly hits: Map<string, number>;
  total(): number;
  route(path: string, handler: Handler): void;
  close(): Promise<void>;
}

export function sha256Etag(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('hex')}"`;
}

/** Serves `body` like the real origin: strong hash ETag, If-None-Match → 304. */
export function object(body: Buffer, cacheControl = 'public, max-age=60', extra: Record<string, string> = {}): Handler {
  const etag = sha256Etag(body);
  return (req, res) => {
    const headers = { 'content-type': 'video/mp2t', etag, 'cache-control': cacheControl, ...extra };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (range) {
      const [start, end] = [Number(range[1]), Math.min(Number(range[2]), body.length - 1)];
      res.writeHead(206, { ...headers, 'content-length': String(end - start + 1), 'content-range': `bytes ${start}-${end}/${body.length}` });
      res.end(body.subarray(start, end + 1));
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': String(body.length) });
    res.end(body);
  };
}

/**
 * Answers on the bare socket, past node:http's framing: raw HTTP the script writes itself, e.g. a
 * close-delimited body (no Content-Length, no chunking), or one cut off with a reset.
 */
export function rawSocket(script: (socket: Socket) => void): Handler {
  return (req) => script(req.socket);
}

export async function startTestOrigin(): Promise<TestOrigin> {
  const routes = new Map<string, Handler>();
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const handler = routes.get(path.split('?')[0]!);
    if (!handler) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    total: () => [...hits.values()].reduce((sum, count) => sum + count, 0),
    route: (path, handler) => void routes.set(path, handler),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (a dead replica). */
export async function deadOriginUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
