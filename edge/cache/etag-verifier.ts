// Body integrity for fills: when an origin's ETag is a hash of the bytes, the edge recomputes it
// while the body streams and refuses to cache a body that does not match.
import { createHash, type Hash } from 'node:crypto';
import { isValidEtag } from '../../infra/http/entity-tag.js';

type Encoding = 'hex' | 'base64url' | 'base64';

const HEX_ALGORITHMS: Readonly<Record<number, string>> = { 32: 'md5', 40: 'sha1', 64: 'sha256' };

/**
 * The origin's strong ETag is a hash of the bytes. This recognises the common spellings — a quoted
 * md5/sha1/sha256 hex digest, `"sha256-<base64>"`, or a bare base64url sha256 — and returns how to
 * recompute it. Unrecognised or weak tags return undefined: they cannot be checked, only lengths can.
 */
export function etagDigestSpec(etag: string | undefined): { algorithm: string; encoding: Encoding; expected: string } | undefined {
  if (etag === undefined || etag.startsWith('W/') || !isValidEtag(etag)) return undefined;
  const value = etag.slice(1, -1);
  const hexAlgorithm = /^[0-9a-f]+$/i.test(value) ? HEX_ALGORITHMS[value.length] : undefined;
  if (hexAlgorithm) return { algorithm: hexAlgorithm, encoding: 'hex', expected: value.toLowerCase() };
  const prefixed = /^(sha256|sha384|sha512|sha1|md5)-([A-Za-z0-9+/_-]+={0,2})$/.exec(value);
  if (prefixed) {
    const encoding: Encoding = /[+/=]/.test(prefixed[2]!) ? 'base64' : 'base64url';
    return { algorithm: prefixed[1]!, encoding, expected: prefixed[2]! };
  }
  if (/^[A-Za-z0-9_-]{43}$/.test(value)) return { algorithm: 'sha256', encoding: 'base64url', expected: value };
  return undefined;
}

/** Hashes a body as it streams and says at the end whether it matches the ETag. */
export interface EtagVerifier {
  update(chunk: Buffer): void;
  matches(): boolean;
}

export function createEtagVerifier(etag: string | undefined): EtagVerifier | undefined {
  const spec = etagDigestSpec(etag);
  if (!spec) return undefined;
  const hash: Hash = createHash(spec.algorithm);
  return {
    update: (chunk) => void hash.update(chunk),
    matches() {
      const digest = hash.digest(spec.encoding);
      return spec.encoding === 'hex' ? digest === spec.expected : digest.replace(/=+$/, '') === spec.expected.replace(/=+$/, '');
    },
  };
}
