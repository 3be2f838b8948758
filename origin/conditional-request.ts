import type { IncomingHttpHeaders } from 'node:http';
import { ifNoneMatchMatches } from '../infra/http/entity-tag.js';
import { parseHttpDate } from '../infra/http/http-date.js';

// RFC 9110 §13 preconditions for a GET/HEAD on a representation with a strong ETag.

/** If-None-Match, when sent, decides alone (§13.2.2); else If-Modified-Since at one-second resolution. */
export function isNotModified(headers: IncomingHttpHeaders, etag: string, lastModified: Date): boolean {
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) return ifNoneMatchMatches(ifNoneMatch, etag);
  const ifModifiedSince = headers['if-modified-since'];
  if (ifModifiedSince === undefined) return false;
  const since = parseHttpDate(ifModifiedSince);
  return since !== undefined && Math.floor(lastModified.getTime() / 1000) * 1000 <= since;
}

/** If-Range: a range applies only if the validator still matches (strong ETag, or the exact date). */
export function rangeStillValid(headers: IncomingHttpHeaders, etag: string, lastModified: Date): boolean {
  const ifRange = (headers['if-range'] as string | undefined)?.trim();
  if (ifRange === undefined) return true;
  if (ifRange.startsWith('"') || ifRange.startsWith('W/')) return ifRange === etag;
  return parseHttpDate(ifRange) === Math.floor(lastModified.getTime() / 1000) * 1000;
}
