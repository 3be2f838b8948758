// Signed URLs, one implementation for the `sign` command, the edges and the balancer: a token
// covers every path under one prefix until it expires (optionally for one client address), so
// one token serves a title's master, media playlists and segments.
//
// The token travels in query parameters, which the edge's cache key drops:
//   st=<base64url HMAC-SHA256>&exp=<unix seconds>&pfx=<path prefix>&kid=<key id>[&ip=<address>]
// The MAC covers `streamedge-url-token-v1`, kid, pfx, exp and ip (empty without one), separated
// by newlines, under the secret that `kid` names; several keys may be active at once (rotation).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { normalizePath } from '../http/request-path.js';

/** One signing key: `kid:secret` in its file. */
export interface UrlTokenKey {
  readonly id: string;
  readonly secret: Buffer;
}

/** The query parameters a token is made of, in the order they are written. */
export const TOKEN_PARAMS = ['st', 'exp', 'pfx', 'kid', 'ip'] as const;

/** Why a request was refused; the text of the 403 and the label of the metric. */
export type TokenRejection = 'token missing' | 'token expired' | 'token invalid' | 'path outside token scope' | 'client address mismatch';

export type TokenCheck =
  | { readonly ok: true; readonly tokenQuery: string }
  | { readonly ok: false; readonly reason: TokenRejection };

export interface TokenClaims {
  /** Path prefix the token covers: absolute, normalized, ending in `/`. */
  readonly prefix: string;
  /** Expiry, unix seconds. */
  readonly expires: number;
  readonly clientAddress?: string | undefined;
}

const KEY_ID = /^[A-Za-z0-9._-]{1,32}$/;
const MIN_SECRET_BYTES = 16;
const MAC = /^[A-Za-z0-9_-]{43}$/;
const EXPIRY = /^\d{1,12}$/;
const MAC_LABEL = 'streamedge-url-token-v1';

/** Parses a key file's text, `kid:secret` on one line (the secret at least 16 bytes). */
export function parseTokenKey(text: string): UrlTokenKey {
  const line = text.trim();
  if (line.includes('\n')) throw new Error('a key file holds one line, kid:secret');
  const colon = line.indexOf(':');
  if (colon === -1) throw new Error('expected kid:secret');
  const id = line.slice(0, colon);
  const secret = line.slice(colon + 1);
  if (!KEY_ID.test(id)) throw new Error('the key id must be 1-32 letters, digits, dot, dash or underscore');
  if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) throw new Error(`the secret must be at least ${MIN_SECRET_BYTES} bytes`);
  return { id, secret: Buffer.from(secret) };
}

/** A path prefix a token may name: absolute, ending in `/`, already in normal form. */
export function checkedPrefix(prefix: string): string {
  if (!prefix.startsWith('/') || !prefix.endsWith('/')) throw new Error('the path prefix must start and end with /');
  const normal = normalizeScopePath(prefix);
  if (normal !== prefix) throw new Error('the path prefix must be normalized (no //, . or .. segments, each segment percent-encoded as the edge writes it, e.g. %20 for a space)');
  return prefix;
}

/** A client address in the form it is compared in (IPv4-mapped IPv6 as plain IPv4, lower case). */
export function canonicalAddress(address: string): string {
  const plain = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '').toLowerCase();
  return plain;
}

function mac(key: UrlTokenKey, prefix: string, expires: string, clientAddress: string): Buffer {
  return createHmac('sha256', key.secret).update([MAC_LABEL, key.id, prefix, expires, clientAddress].join('\n')).digest();
}

/** The token's query parameters (URL-encoded, without `?`). */
export function signUrlToken(key: UrlTokenKey, claims: TokenClaims): string {
  const prefix = checkedPrefix(claims.prefix);
  if (!Number.isSafeInteger(claims.expires) || claims.expires < 0) throw new Error('expires must be a whole number of unix seconds');
  let address = '';
  if (claims.clientAddress !== undefined) {
    address = canonicalAddress(claims.clientAddress);
    if (isIP(address) === 0) throw new Error(`not an IP address: ${claims.clientAddress}`);
  }
  const expires = String(claims.expires);
  const params = new URLSearchParams({ st: mac(key, prefix, expires, address).toString('base64url'), exp: expires, pfx: prefix, kid: key.id });
  if (address !== '') params.set('ip', address);
  return params.toString();
}

/**
 * The path a request names, for the scope check: the edge's normal form (infra/http/request-path),
 * so a token covers exactly the paths the edge fetches under its prefix. Stricter than the cache
 * key: a `%` left after one decoding (a double-encoded path, re-encoded as `%25`) is refused, in case
 * an origin decodes twice. Undefined for anything that is not a path in scope form.
 */
export function normalizeScopePath(rawPath: string): string | undefined {
  const normal = normalizePath(rawPath);
  return normal.ok && !normal.path.includes('%25') ? normal.path : undefined;
}

export interface UrlTokenVerifier {
  /**
   * Checks the token in `target` (an origin-form request target) for the path it names, from
   * `clientAddress`, at `nowSeconds`. On success, the token's parameters to carry into child URLs.
   */
  check(target: string, clientAddress: string | undefined, nowSeconds?: number): TokenCheck;
}

/** A verifier accepting tokens signed by any of `keys` (two during a rotation), chosen by `kid`. */
export function createUrlTokenVerifier(keys: readonly UrlTokenKey[]): UrlTokenVerifier {
  if (keys.length === 0) throw new TypeError('url tokens: at least one key is needed');
  const byId = new Map<string, UrlTokenKey>();
  for (const key of keys) {
    if (!KEY_ID.test(key.id) || key.secret.length < MIN_SECRET_BYTES) throw new TypeError(`url tokens: key "${key.id}" is malformed`);
    if (byId.has(key.id)) throw new TypeError(`url tokens: key id "${key.id}" is given twice`);
    byId.set(key.id, key);
  }
  return {
    check(target, clientAddress, nowSeconds = Math.floor(Date.now() / 1000)) {
      const question = target.indexOf('?');
      if (question === -1) return { ok: false, reason: 'token missing' };
      const hash = target.indexOf('#', question);
      let params: URLSearchParams;
      try {
        params = new URLSearchParams(target.slice(question + 1, hash === -1 ? undefined : hash));
      } catch {
        return { ok: false, reason: 'token invalid' };
      }
      if (!params.has('st')) return { ok: false, reason: 'token missing' };
      const value: Partial<Record<(typeof TOKEN_PARAMS)[number], string>> = {};
      for (const name of TOKEN_PARAMS) {
        const all = params.getAll(name);
        // A repeated parameter is ambiguous: which one did the MAC cover?
        if (all.length > 1) return { ok: false, reason: 'token invalid' };
        if (all.length === 1) value[name] = all[0]!;
      }
      const { st, exp, pfx, kid } = value;
      const ip = value.ip ?? '';
      if (st === undefined || exp === undefined || pfx === undefined || kid === undefined) return { ok: false, reason: 'token invalid' };
      if (!MAC.test(st) || !EXPIRY.test(exp)) return { ok: false, reason: 'token invalid' };
      const key = byId.get(kid);
      if (!key) return { ok: false, reason: 'token invalid' };
      if (!timingSafeEqual(Buffer.from(st, 'base64url'), mac(key, pfx, exp, ip))) return { ok: false, reason: 'token invalid' };
      if (Number(exp) < nowSeconds) return { ok: false, reason: 'token expired' };
      const path = normalizeScopePath(target.slice(0, question));
      if (path === undefined || !pfx.endsWith('/') || !path.startsWith(pfx)) return { ok: false, reason: 'path outside token scope' };
      if (ip !== '' && (clientAddress === undefined || canonicalAddress(clientAddress) !== ip)) return { ok: false, reason: 'client address mismatch' };
      const carried = new URLSearchParams({ st, exp, pfx, kid });
      if (ip !== '') carried.set('ip', ip);
      return { ok: true, tokenQuery: carried.toString() };
    },
  };
}

/** `url` with its token parameters removed (for log lines and error messages). */
export function withoutTokenParams(url: string): string {
  const question = url.indexOf('?');
  if (question === -1) return url;
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(url.slice(question + 1));
  } catch {
    return url.slice(0, question);
  }
  for (const name of TOKEN_PARAMS) params.delete(name);
  const rest = params.toString();
  return rest === '' ? url.slice(0, question) : `${url.slice(0, question)}?${rest}`;
}
