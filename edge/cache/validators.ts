// RFC 9111 §4.3 validation as small pure functions: what a revalidation asks the origin, whether a
// 304 speaks for the stored response at all, and what a viewer's If-Modified-Since compares with.
import { parseHttpDate } from '../../infra/http/http-date.js';
import type { ResponseHeaders } from './freshness.js';

/** The validators of a stored response (§4.3.1). */
export interface StoredValidators {
  readonly etag: string | undefined;
  /** The stored Last-Modified, as sent. */
  readonly lastModified: string | undefined;
}

/** The conditional fields a revalidation sends (§4.3.1): If-None-Match and If-Modified-Since both. */
export function revalidationFields(stored: StoredValidators): { ifNoneMatch?: string; ifModifiedSince?: string } {
  return {
    ...(stored.etag !== undefined ? { ifNoneMatch: stored.etag } : {}),
    ...(stored.lastModified !== undefined && parseHttpDate(stored.lastModified) !== undefined ? { ifModifiedSince: stored.lastModified } : {}),
  };
}

/** Whether a stored response can be revalidated at all: it has a validator to send. */
export function canRevalidate(stored: StoredValidators): boolean {
  const fields = revalidationFields(stored);
  return fields.ifNoneMatch !== undefined || fields.ifModifiedSince !== undefined;
}

/**
 * §4.3.4: a 304 updates the stored response only if it selects it. A strong entity-tag must equal
 * the stored one, a weak one match it weakly; without an entity-tag, a Last-Modified must equal the
 * stored one; a 304 carrying no validator selects the one response the request was conditional on.
 */
export function notModifiedSelects(stored: StoredValidators, notModified: ResponseHeaders): boolean {
  const etag = notModified.etag;
  if (typeof etag === 'string') {
    if (stored.etag === undefined) return false;
    const tag = etag.trim();
    if (!tag.startsWith('W/')) return tag === stored.etag;
    return tag.slice(2) === stored.etag.replace(/^W\//, '');
  }
  const lastModified = notModified['last-modified'];
  if (typeof lastModified === 'string') {
    const sent = parseHttpDate(lastModified);
    return sent !== undefined && sent === parseHttpDate(stored.lastModified);
  }
  return true;
}

/**
 * §4.3.2: a viewer's If-Modified-Since is compared with the stored Last-Modified, or else the
 * stored Date (epoch ms; undefined when neither is a valid date).
 */
export function storedModificationTime(lastModified: string | undefined, date: string): number | undefined {
  return parseHttpDate(lastModified) ?? parseHttpDate(date);
}
