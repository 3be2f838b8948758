// `--token-secret-file` (edge, balancer) and `--secret-file` (sign): signing keys come from files,
// never from argv, each `kid:secret` on one line; a bad file stops the command naming the flag.
import { readFileSync } from 'node:fs';
import { OptionError } from '../runtime/command-options.js';
import { createUrlTokenVerifier, parseTokenKey, type UrlTokenKey, type UrlTokenVerifier } from './url-token.js';

export const TOKEN_SECRET_FILE_OPTION = {
  'token-secret-file': {
    kind: 'string',
    multiple: true,
    description: 'file holding a signed-URL key as kid:secret; media requests then need a valid token (give two during a key rotation)',
  },
} as const;

/** Reads one key file. */
export function readTokenKeyFile(flag: string, path: string): UrlTokenKey {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new OptionError(flag, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return parseTokenKey(text);
  } catch (error) {
    throw new OptionError(flag, `${path}: ${(error as Error).message}`);
  }
}

/** The verifier for `--token-secret-file` files, or undefined when none is given (tokens not checked). */
export function tokenVerifierFromFiles(paths: readonly string[]): UrlTokenVerifier | undefined {
  if (paths.length === 0) return undefined;
  if (paths.length > 2) throw new OptionError('--token-secret-file', 'at most two keys are active at once (the current and the next)');
  const keys = paths.map((path) => readTokenKeyFile('--token-secret-file', path));
  if (keys.length === 2 && keys[0]!.id === keys[1]!.id) throw new OptionError('--token-secret-file', `both files name key id "${keys[0]!.id}"`);
  return createUrlTokenVerifier(keys);
}
