// Which origin response header fields reach viewers and the cache: one rule for a stored fill, a
// fill streamed to its readers and an uncached pass-through alike, so no road to the origin can
// leak a field the others hold back.
import { connectionListed, HOP_BY_HOP_FIELDS } from '../../infra/http/hop-by-hop.js';
import { formatHttpDate, parseHttpDate } from '../../infra/http/http-date.js';
import { UPSTREAM_FAULT_HEADER } from '../../infra/http/upstream-fault.js';
import type { ResponseHeaders } from './freshness.js';

// Besides hop-by-hop fields (RFC 9110 §7.6.1) and those the response's Connection lists: fields the
// edge writes itself on every response, fields that must never be replayed to another viewer, and
// the origin's own internal fields.
const NEVER_REPLAYED = new Set([
  'date', 'age', 'set-cookie', 'cache-status', 'x-served-by', 'server',
  'access-control-allow-origin', 'access-control-expose-headers', 'access-control-allow-methods',
  'access-control-allow-headers', 'access-control-max-age', 'access-control-allow-credentials',
  'x-origin-id', UPSTREAM_FAULT_HEADER,
]);

// They describe one transfer of the body: copied when the origin's body passes through unchanged,
// computed afresh when the edge serves its own copy (a whole object, a range of it).
const BODY_FRAMING = ['content-length', 'content-range', 'accept-ranges'] as const;
const BODY_FRAMING_SET: ReadonlySet<string> = new Set(BODY_FRAMING);

// Kept with the entry (a 304 may omit it) but addressed to this CDN, not to viewers (RFC 9213).
const NOT_FORWARDED = new Set(['cdn-cache-control']);

/**
 * The end-to-end fields of an origin response, as the cache stores them (lower-case names): never
 * a hop-by-hop field or one the response's own Connection field lists (RFC 9110 §7.6.1).
 */
export function replayableHeaders(headers: ResponseHeaders): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of endToEndFields(headers)) kept[name] = Array.isArray(value) ? value.join(', ') : value;
  return kept;
}

/** The fields that may reach a viewer, as the origin sent them (a repeated field stays a list). */
function endToEndFields(headers: ResponseHeaders): [string, string | string[]][] {
  const listed = connectionListed(headers.connection);
  const kept: [string, string | string[]][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP_FIELDS.has(name) || listed.has(name) || NEVER_REPLAYED.has(name) || BODY_FRAMING_SET.has(name)) continue;
    kept.push([name, value]);
  }
  return kept;
}

/**
 * The fields of an interim response relayed to a viewer (RFC 9110 §15.2), by the same rule as a
 * final one; each Link line kept apart, as Node validates them one by one.
 */
export function interimFields(headers: ResponseHeaders): Record<string, string | string[]> {
  return Object.fromEntries(endToEndFields(headers));
}

/** Stored fields as a flat `[name, value, …]` block for viewers, without the CDN's own directives. */
export function forwardedHeaderBlock(stored: Readonly<Record<string, string>>): string[] {
  const block: string[] = [];
  for (const [name, value] of Object.entries(stored)) if (!NOT_FORWARDED.has(name)) block.push(name, value);
  return block;
}

/** A response relayed as the origin sent it (nothing stored): the same fields plus its own framing. */
export function passThroughHeaderBlock(headers: ResponseHeaders): string[] {
  const block = forwardedHeaderBlock(replayableHeaders(headers));
  for (const name of BODY_FRAMING) {
    const value = headers[name];
    if (typeof value === 'string') block.push(name, value);
  }
  return block;
}

/**
 * The Date a response carries downstream (RFC 9110 §6.6.1): the origin's own when it is a valid
 * HTTP-date, so a hit replays the stored Date and downstream caches see the real apparent age;
 * otherwise the time the edge received it, as a recipient with a clock must add.
 */
export function replayedDate(headers: ResponseHeaders, receivedAt: number): string {
  const sent = headers.date;
  return typeof sent === 'string' && parseHttpDate(sent, receivedAt) !== undefined ? sent.trim() : formatHttpDate(receivedAt);
}
