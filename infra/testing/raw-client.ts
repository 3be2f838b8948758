// A viewer on a raw TCP socket, for tests of how servers treat hostile connections: half heads,
// viewers that never read, more connections than allowed.
import { connect, type Socket } from 'node:net';
import { readResponses, type ReadResult } from './http-response-reader.js';

export interface RawClient {
  readonly socket: Socket;
  /** Everything received so far (nothing while opened paused). */
  received(): Buffer;
  /** Resolves with the ms since opening once the connection is closed, by either side. */
  readonly closed: Promise<number>;
}

/** Connects to an http:// URL's host and port; `paused` leaves every byte unread. */
export function openRawClient(url: string, options: { localAddress?: string; paused?: boolean } = {}): Promise<RawClient> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const chunks: Buffer[] = [];
    const socket = connect({ port: Number(port), host: hostname, ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
    if (options.paused) socket.pause();
    else socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {});
    const closed = new Promise<number>((done) => socket.once('close', () => done(performance.now() - started)));
    socket.once('connect', () => resolve({ socket, received: () => Buffer.concat(chunks), closed }));
    socket.once('error', reject);
  });
}

/** Sends raw bytes (then FIN, if `halfClose`), reads until the server closes, and parses what came back. */
export async function rawExchange(url: string, bytes: string, methods: readonly string[], halfClose = false): Promise<ReadResult> {
  const client = await openRawClient(url);
  client.socket.write(bytes, 'latin1');
  if (halfClose) client.socket.end();
  await client.closed;
  return readResponses(client.received(), methods, true);
}
