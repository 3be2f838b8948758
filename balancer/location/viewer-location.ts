import { parseIpAddress, prefixContains, type IpAddress, type IpPrefix } from '../../infra/net/ip-prefix-table.js';
import { REGION_NAME, type LocationTable, type Place } from './location-table.js';

export type LocationSource = 'hint' | 'prefix' | 'unknown';

/** What routing and forwarding read from a viewer's request: node:http's, or the proxy fast path's. */
export interface ViewerRequest {
  readonly url?: string | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly socket: { readonly remoteAddress?: string | undefined; readonly encrypted?: boolean };
}

export interface ViewerLocation {
  /** The viewer's address after trusted proxies are peeled off (IPv4 in dotted form). */
  readonly clientIp: string;
  readonly place: Place | undefined;
  readonly source: LocationSource;
}

export interface ViewerRequestFacts {
  /** The TCP peer (req.socket.remoteAddress). */
  readonly peer: string | undefined;
  readonly forwardedFor: string | readonly string[] | undefined;
  /** `region=` query parameter values (a repeated parameter is an error). */
  readonly hintQuery: readonly string[];
  readonly hintHeader: string | readonly string[] | undefined;
}

export interface ViewerLocatorOptions {
  readonly table: LocationTable;
  readonly trustedProxies: readonly IpPrefix[];
  readonly hintsEnabled: boolean;
  /** Coordinates of a region the table does not name (e.g. from the edges in it). */
  readonly regionFallback?: (region: string) => Place | undefined;
}

export class ViewerInputError extends Error {
  readonly status = 400;
  constructor(reason: string) {
    super(reason);
    this.name = 'ViewerInputError';
  }
}

function formatAddress(address: IpAddress, text: string): string {
  return address.family === 4 ? text.replace(/^::ffff:/i, '') : text.toLowerCase();
}

function isTrusted(address: IpAddress, trusted: readonly IpPrefix[]): boolean {
  return trusted.some((prefix) => prefixContains(prefix, address));
}

/** One X-Forwarded-For element: a bare address, optionally `[v6]` or `v4:port`. */
function parseForwardedElement(raw: string): { address: IpAddress; text: string } | undefined {
  let text = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(text);
  if (bracketed) text = bracketed[1]!;
  else if (/^[\d.]+:\d{1,5}$/.test(text)) text = text.slice(0, text.lastIndexOf(':'));
  const address = parseIpAddress(text);
  return address ? { address, text } : undefined;
}

/**
 * The viewer's address: the TCP peer, unless the peer is a trusted proxy, in which case
 * X-Forwarded-For is walked from the right, skipping trusted hops, to the first untrusted one.
 */
export function resolveClientAddress(
  peer: string | undefined,
  forwardedFor: string | readonly string[] | undefined,
  trusted: readonly IpPrefix[],
): { address: IpAddress; text: string } {
  const peerAddress = peer === undefined ? undefined : parseIpAddress(peer);
  if (!peerAddress || peer === undefined) throw new ViewerInputError('cannot determine the client address');
  let client = { address: peerAddress, text: formatAddress(peerAddress, peer) };
  if (!isTrusted(peerAddress, trusted) || forwardedFor === undefined) return client;
  const hops = (typeof forwardedFor === 'string' ? [forwardedFor] : forwardedFor).join(',').split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    if (hops[i]!.trim() === '' && hops.length === 1) break;
    const hop = parseForwardedElement(hops[i]!);
    if (!hop) throw new ViewerInputError(`malformed X-Forwarded-For element "${hops[i]!.trim().slice(0, 64)}"`);
    client = { address: hop.address, text: formatAddress(hop.address, hop.text) };
    if (!isTrusted(hop.address, trusted)) break;
  }
  return client;
}

/** The `region=` values of a request target's query (only the query is parsed, not a whole URL). */
export function regionHints(url: string): string[] {
  const question = url.indexOf('?');
  return question === -1 ? [] : new URLSearchParams(url.slice(question + 1).split('#', 1)[0]).getAll('region');
}

function readHint(facts: ViewerRequestFacts): string | undefined {
  if (facts.hintQuery.length === 0 && facts.hintHeader === undefined) return undefined;
  const header = facts.hintHeader === undefined ? [] : typeof facts.hintHeader === 'string' ? [facts.hintHeader] : [...facts.hintHeader];
  const values = [...new Set([...facts.hintQuery, ...header].map((value) => value.trim()))];
  if (values.length === 0) return undefined;
  if (values.length > 1) throw new ViewerInputError('conflicting region hints (query "region" and X-Streamedge-Region differ)');
  return values[0];
}

/** Where the viewer is: an explicit hint (when enabled), else the prefix table, else unknown. */
export function locateViewer(facts: ViewerRequestFacts, options: ViewerLocatorOptions): ViewerLocation {
  const client = resolveClientAddress(facts.peer, facts.forwardedFor, options.trustedProxies);
  const hint = readHint(facts);
  if (hint !== undefined) {
    if (!options.hintsEnabled) throw new ViewerInputError('region hints are disabled on this balancer');
    if (!REGION_NAME.test(hint)) throw new ViewerInputError('malformed region hint');
    const place = options.table.regionPlace(hint) ?? options.regionFallback?.(hint);
    if (!place) throw new ViewerInputError(`unknown region "${hint}"`);
    return { clientIp: client.text, place, source: 'hint' };
  }
  const place = options.table.lookup(client.address);
  return { clientIp: client.text, place, source: place ? 'prefix' : 'unknown' };
}
