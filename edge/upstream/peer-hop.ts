// The loop guard between peers (edges of a region hashing keys among themselves, shields hashing
// keys among all shields): a request one peer sends the key's owner carries a hop header, and the
// owner then goes past the peer tier (to the shields or origins) instead of hashing again. The
// header is believed only with a valid HMAC of the sender's id and the request target under the
// fleet's shared secret (`--sibling-secret-file`), so a viewer can neither forge a hop nor reuse one
// for another object; a believed hop also stands for the token check the first edge already did.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readBearerTokenFile } from '../../infra/auth/bearer-token.js';
import { OptionError } from '../../infra/runtime/command-options.js';

export const PEER_HOP_HEADER = 'x-streamedge-hop';

export const PEER_SECRET_FILE_OPTION = {
  'sibling-secret-file': {
    kind: 'string',
    description: 'file holding the secret (≥ 32 characters) shared by a fleet\'s edges and shields: signs the hop between peers (shields of every region; edges with --sibling-hashing)',
  },
} as const;

const MIN_SECRET_LENGTH = 32;
const ID = /^[A-Za-z0-9._-]+$/;

export interface PeerHopAuth {
  /** The header value this peer sends with a request for `target`. */
  sign(fromId: string, target: string): string;
  /** The sending peer's id when `value` is a valid hop for `target`, else undefined. */
  verify(value: string | string[] | undefined, target: string): string | undefined;
}

export function createPeerHopAuth(secret: string): PeerHopAuth {
  if (secret.length < MIN_SECRET_LENGTH) throw new TypeError(`peer hop: the secret must be at least ${MIN_SECRET_LENGTH} characters`);
  const mac = (fromId: string, target: string): Buffer => createHmac('sha256', secret).update(`${fromId}\n${target}`).digest();
  return {
    sign: (fromId, target) => `${fromId} ${mac(fromId, target).toString('base64url')}`,
    verify(value, target) {
      if (typeof value !== 'string') return undefined;
      const [fromId, signature, extra] = value.split(' ');
      if (fromId === undefined || signature === undefined || extra !== undefined || !ID.test(fromId)) return undefined;
      const given = Buffer.from(signature, 'base64url');
      const expected = mac(fromId, target);
      return given.length === expected.length && timingSafeEqual(given, expected) ? fromId : undefined;
    },
  };
}

/** The secret in a `--sibling-secret-file`, or undefined without the flag; a bad file names the flag. */
export function readPeerSecretFile(path: string | undefined): string | undefined {
  const secret = readBearerTokenFile('--sibling-secret-file', path);
  if (secret !== undefined && secret.length < MIN_SECRET_LENGTH) throw new OptionError('--sibling-secret-file', `${path}: the secret must be at least ${MIN_SECRET_LENGTH} characters`);
  return secret;
}
