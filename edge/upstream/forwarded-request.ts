// Which viewer request header fields travel to the origin on a miss (RFC 9110 §7.6): every
// end-to-end field, except hop-by-hop ones, those the viewer's Connection lists, those the edge
// decides itself (conditionals and Range: it fetches whole objects and revalidates with its own
// validators), and an explicit, configurable list kept from the origin (cookies and credentials by
// default). Via and X-Forwarded-For/-Proto say the request came through this edge.
import type { IncomingHttpHeaders } from 'node:http';
import { connectionListed, HOP_BY_HOP_FIELDS } from '../../infra/http/hop-by-hop.js';

// Besides the hop-by-hop set: fields that describe this one hop (framing, the Host of the edge).
const THIS_HOP = new Set(['host', 'content-length', 'expect']);

// The edge asks for whole objects and sends its own validators when it revalidates.
const DECIDED_BY_THE_EDGE = new Set(['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range']);

/** Kept from the origin unless configured otherwise: one viewer's identity never fills a shared object. */
export const DEFAULT_STRIPPED_REQUEST_HEADERS: readonly string[] = ['cookie', 'authorization'];

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Validates a configured list of header names (lower-cased); a TypeError names a bad one. */
export function strippedHeaderSet(names: readonly string[]): ReadonlySet<string> {
  for (const name of names) if (!TOKEN.test(name)) throw new TypeError(`stripped request header must be a field name, got "${name}"`);
  return new Set(names.map((name) => name.toLowerCase()));
}

export interface ForwardingContext {
  /** The viewer's address (appended to X-Forwarded-For). */
  readonly clientAddress: string | undefined;
  readonly protocol: 'http' | 'https';
  /** This edge's Via entry, e.g. `1.1 streamedge-edge-1`. */
  readonly via: string;
  readonly stripped: ReadonlySet<string>;
}

/** The fields a miss forwards to the origin, lower-case names. */
export function forwardedRequestHeaders(incoming: IncomingHttpHeaders, context: ForwardingContext): Record<string, string> {
  const listed = connectionListed(incoming.connection);
  const forwarded: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming)) {
    // HTTP/2 pseudo-header fields (`:path`, `:authority`, …) are that hop's framing, not fields.
    if (value === undefined || name.startsWith(':') || HOP_BY_HOP_FIELDS.has(name) || THIS_HOP.has(name) || DECIDED_BY_THE_EDGE.has(name) || listed.has(name) || context.stripped.has(name)) continue;
    if (name === 'via' || name === 'x-forwarded-for' || name === 'x-forwarded-proto') continue;
    forwarded[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const joined = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value.join(', ') : value);
  const priorVia = joined(incoming.via);
  forwarded.via = priorVia ? `${priorVia}, ${context.via}` : context.via;
  const priorFor = joined(incoming['x-forwarded-for']);
  if (context.clientAddress !== undefined) forwarded['x-forwarded-for'] = priorFor ? `${priorFor}, ${context.clientAddress}` : context.clientAddress;
  else if (priorFor) forwarded['x-forwarded-for'] = priorFor;
  forwarded['x-forwarded-proto'] = context.protocol;
  return forwarded;
}
