import type { IncomingHttpHeaders } from 'node:http';
import { parseHttpDate } from '../infra/http/http-date.js';
import { isNotModified as notModified } from '../infra/http/not-modified.js';

// RFC 9110 §13 preconditions for a GET/HEAD on a representation with a strong ETag.

/** If-None-Match, when sent, decides alone (§13.2.2); else If-Modified-Since at one-second resolution. */
export function isNotModified(headers: IncomingHttpHeaders, etag: string, lastModified: Date): boolean {
  return notModified(headers, etag, lastModified.getTime());
}

/** If-Range: a range applies only if the validator still matches (strong ETag, or the exact date). */
export function rangeStillValid(headers: IncomingHttpHeaders, etag: string, lastModified: Date): boolean {
  const ifRange = (headers['if-range'] as string | undefined)?.trim();
  if (ifRange === undefined) return true;
  if (ifRange.startsWith('"') || ifRange.startsWith('W/')) return ifRange === etag;
  return parseHttpDate(ifRange) === Math.floor(lastModified.getTime() / 1000) * 1000;
}
