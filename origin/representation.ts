import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { decideRange } from '../infra/http/byte-range.js';
import { isNotModified, rangeStillValid } from './conditional-request.js';
import { strongEtag, type StoredFile } from './file-store.js';
import { CACHE_CONTROL } from './response-policy.js';

/** One answerable object: bytes in memory or a pinned file, plus its validators and caching policy. */
export interface Representation {
  readonly contentType: string;
  readonly cacheControl: string;
  readonly etag: string;
  readonly lastModified: Date;
  readonly size: number;
  readonly bytes: Buffer | undefined;
  readonly file: StoredFile | undefined;
}

/** A refusal with a status and a short reason, sent as text/plain. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(reason);
    this.name = 'HttpError';
  }
}

export function representationOfBytes(bytes: Buffer, contentType: string, cacheControl: string, lastModified: Date): Representation {
  return { contentType, cacheControl, etag: strongEtag(bytes), lastModified, size: bytes.length, bytes, file: undefined };
}

export function representationOfFile(file: StoredFile, contentType: string, cacheControl: string): Representation {
  return { contentType, cacheControl, etag: file.etag, lastModified: file.lastModified, size: file.size, bytes: file.bytes, file };
}

/**
 * Answers GET/HEAD for a representation: 304 when the client's copy is current, 206 for one
 * satisfiable range (unless If-Range says the client's copy is stale), 416 past the end, else 200.
 * Returns the body bytes sent.
 */
export async function sendRepresentation(request: IncomingMessage, response: ServerResponse, representation: Representation): Promise<number> {
  const { etag, lastModified, size } = representation;
  response.setHeader('ETag', etag);
  response.setHeader('Last-Modified', lastModified.toUTCString());
  response.setHeader('Cache-Control', representation.cacheControl);
  response.setHeader('Accept-Ranges', 'bytes');
  if (isNotModified(request.headers, etag, lastModified)) {
    await representation.file?.release();
    response.writeHead(304).end();
    return 0;
  }
  const range = rangeStillValid(request.headers, etag, lastModified) ? decideRange(request.headers.range, size) : { kind: 'full' as const };
  if (range.kind === 'unsatisfiable') {
    await representation.file?.release();
    throw new HttpError(416, 'range not satisfiable', { 'Content-Range': `bytes */${size}`, 'Accept-Ranges': 'bytes' });
  }
  // A malformed Range is ignored (RFC 9110 §14.2 allows it): the whole object, as for several ranges.
  const [start, end, status] = range.kind === 'partial' ? [range.range.start, range.range.end, 206] : [0, size - 1, 200];
  const length = end - start + 1;
  response.setHeader('Content-Type', representation.contentType);
  response.setHeader('Content-Length', length);
  if (status === 206) response.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
  response.writeHead(status);
  if (request.method === 'HEAD' || length === 0) {
    await representation.file?.release();
    response.end();
    return 0;
  }
  if (representation.bytes) {
    response.end(representation.bytes.subarray(start, end + 1));
    return length;
  }
  await pipeline(representation.file!.body(start, end), response);
  return length;
}

export function sendError(request: IncomingMessage, response: ServerResponse, error: HttpError): void {
  const body = Buffer.from(`${error.reason}\n`);
  for (const name of ['ETag', 'Last-Modified', 'Accept-Ranges']) response.removeHeader(name);
  response.writeHead(error.status, {
    ...error.headers,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': body.length,
    'Cache-Control': CACHE_CONTROL.uncacheable,
    'X-Content-Type-Options': 'nosniff',
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}
