// `--metrics-token-file` (edge, balancer): /metrics (and the balancer's /status) optionally behind
// a bearer token, read from a file (never argv), compared without leaking length or content
// through timing. The edge's purge token is checked the same way.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { OptionError } from '../runtime/command-options.js';

export const METRICS_TOKEN_FILE_OPTION = {
  'metrics-token-file': {
    kind: 'string',
    description: 'file holding a bearer token (≥ 16 characters) that /metrics (and the balancer\'s /status) then require; unset, they are open',
  },
} as const;

const MIN_TOKEN_LENGTH = 16;

/** The token in a `--metrics-token-file`, or undefined without the flag; a bad file names the flag. */
export function readBearerTokenFile(flag: string, path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new OptionError(flag, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const token = text.trim();
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) throw new OptionError(flag, `${path}: the token must be one word of at least ${MIN_TOKEN_LENGTH} characters`);
  return token;
}

/** Equal strings, compared as digests so neither the length nor the content leaks through timing. */
export function tokenEquals(given: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** What an Authorization field says about a bearer token: `missing` (401), `wrong` (403) or `ok`. */
export function checkBearer(authorization: string | undefined, expected: string): 'missing' | 'wrong' | 'ok' {
  const match = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) return 'missing';
  return tokenEquals(match[1]!, expected) ? 'ok' : 'wrong';
}
