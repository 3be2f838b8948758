// What the proxy front forwards: the viewer's request headers without hop-by-hop fields and with
// X-Forwarded-For/-Proto, and the edge's response headers without hop-by-hop fields (RFC 9110 §7.6.1).
import type { IncomingHttpHeaders } from 'node:http';
import type { ViewerRequest } from '../location/viewer-location.js';
import { parseIpAddress, prefixContains, type IpPrefix } from '../../infra/net/ip-prefix-table.js';

// Fields that belong to one connection, never forwarded. `host` is the edge's (the pool sets it),
// `expect` is not supported upstream, and `x-streamedge-region` is a hint for the balancer alone.
const REQUEST_DROPPED = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'expect', 'x-streamedge-region', 'x-forwarded-for', 'x-forwarded-proto']);
const RESPONSE_DROPPED = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** X-Forwarded-For/-Proto: appended to when the peer is a trusted proxy, replaced otherwise. */
export function forwardedHeaders(req: ViewerRequest, trusted: readonly IpPrefix[]): { 'x-forwarded-for': string; 'x-forwarded-proto': string } {
  const peer = req.socket.remoteAddress ?? '';
  const peerAddress = parseIpAddress(peer);
  const peerText = peerAddress?.family === 4 ? peer.replace(/^::ffff:/i, '') : peer;
  const fromTrusted = trusted.length > 0 && peerAddress !== undefined && trusted.some((prefix) => prefixContains(prefix, peerAddress));
  const priorFor = fromTrusted ? [req.headers['x-forwarded-for']].flat().filter(Boolean).join(', ') : '';
  const priorProto = fromTrusted ? String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]!.trim() : '';
  const ownProto = req.socket.encrypted ? 'https' : 'http';
  return {
    'x-forwarded-for': priorFor ? `${priorFor}, ${peerText}` : peerText,
    'x-forwarded-proto': /^https?$/.test(priorProto) ? priorProto : ownProto,
  };
}

/** Field names a Connection header lists: hop-by-hop too. */
function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  const tokens = [value].flat().flatMap((item) => item.split(',')).map((token) => token.trim().toLowerCase()).filter((token) => token !== '' && token !== 'keep-alive' && token !== 'close');
  return tokens.length > 0 ? new Set(tokens) : undefined;
}

/** `incoming` without the `dropped` fields and those its Connection header names. */
function endToEndFields(incoming: Readonly<IncomingHttpHeaders>, dropped: ReadonlySet<string>): Record<string, string | string[]> {
  const listed = connectionTokens(incoming.connection);
  const headers: Record<string, string | string[]> = {};
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || dropped.has(name) || listed?.has(name)) continue;
    headers[name] = value;
  }
  return headers;
}

/** The request headers to send the edge. */
export function requestHeadersForEdge(req: ViewerRequest, trusted: readonly IpPrefix[]): Record<string, string | string[]> {
  return Object.assign(endToEndFields(req.headers, REQUEST_DROPPED), forwardedHeaders(req, trusted));
}

/** The edge's response headers to send the viewer (node:http adds its own connection fields). */
export function responseHeadersForViewer(incoming: IncomingHttpHeaders): Record<string, string | string[]> {
  return endToEndFields(incoming, RESPONSE_DROPPED);
}
