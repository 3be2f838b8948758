// How a service reaches its Consul agent: the address, the ACL token of its role, and for an
// https agent the CA (and a client certificate when the agent verifies clients). Read once at
// start-up from flags, files and Consul's own environment variables, so a bad value is a start-up
// error naming the flag, and the token never appears in argv examples or logs.
import { readFileSync } from 'node:fs';
import { OptionError } from '../runtime/command-options.js';

export interface ConsulTls {
  /** PEM CA bundle that signed the agent's certificate. */
  readonly ca?: string;
  /** PEM client certificate and key, for an agent with verify_incoming. */
  readonly cert?: string;
  readonly key?: string;
}

export interface ConsulConnection {
  /** The agent's HTTP(S) API base URL, e.g. http://127.0.0.1:8500 (never holds the token). */
  readonly url: string;
  /** The ACL token sent as X-Consul-Token; absent on a cluster without ACLs. */
  readonly token?: string;
  readonly tls?: ConsulTls;
}

/** The flags every command that talks to Consul takes beside its own `--consul`. */
export const CONSUL_ACCESS_OPTIONS = {
  'consul-token-file': { kind: 'string', description: "file holding this role's Consul ACL token (else $CONSUL_HTTP_TOKEN_FILE or $CONSUL_HTTP_TOKEN)" },
  'consul-ca': { kind: 'string', description: 'PEM CA file to verify an https Consul agent (else $CONSUL_CACERT)' },
  'consul-cert': { kind: 'string', description: 'PEM client certificate for an https Consul agent that verifies clients (else $CONSUL_CLIENT_CERT)' },
  'consul-key': { kind: 'string', description: 'PEM private key of --consul-cert (else $CONSUL_CLIENT_KEY)' },
} as const;

export interface ConsulAccessFlags {
  readonly consul?: string | undefined;
  readonly 'consul-token-file'?: string | undefined;
  readonly 'consul-ca'?: string | undefined;
  readonly 'consul-cert'?: string | undefined;
  readonly 'consul-key'?: string | undefined;
}

// Consul's tokens are UUIDs; anything printable up to this length is accepted, nothing multi-line.
const MAX_TOKEN_LENGTH = 512;

function readOptionFile(flag: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new OptionError(flag, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** A token as Consul takes it: one line of printable ASCII. */
export function checkedToken(flag: string, raw: string): string {
  const token = raw.trim();
  if (token === '') throw new OptionError(flag, 'the Consul token is empty');
  if (token.length > MAX_TOKEN_LENGTH) throw new OptionError(flag, `the Consul token is longer than ${MAX_TOKEN_LENGTH} characters`);
  if (!/^[\x21-\x7e]+$/.test(token)) throw new OptionError(flag, 'the Consul token must be one line of printable characters');
  return token;
}

function pemFile(flag: string, path: string): string {
  const text = readOptionFile(flag, path);
  if (!text.includes('-----BEGIN ')) throw new OptionError(flag, `${path} is not a PEM file`);
  return text;
}

/**
 * The connection from a command's flags, with Consul's own variables (CONSUL_HTTP_TOKEN_FILE,
 * CONSUL_HTTP_TOKEN, CONSUL_CACERT, CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY) as fallbacks; undefined
 * without `--consul`. Throws OptionError naming the bad flag.
 */
export function consulConnectionFrom(flags: ConsulAccessFlags, env: NodeJS.ProcessEnv = process.env): ConsulConnection | undefined {
  const given = (flag: keyof ConsulAccessFlags, variable: string): { flag: string; value: string } | undefined => {
    const value = flags[flag] ?? (env[variable] || undefined);
    return value === undefined ? undefined : { flag: flags[flag] !== undefined ? `--${flag}` : variable, value };
  };
  const tokenFile = given('consul-token-file', 'CONSUL_HTTP_TOKEN_FILE');
  const caFile = given('consul-ca', 'CONSUL_CACERT');
  const certFile = given('consul-cert', 'CONSUL_CLIENT_CERT');
  const keyFile = given('consul-key', 'CONSUL_CLIENT_KEY');
  if (flags.consul === undefined) {
    const stray = [tokenFile, caFile, certFile, keyFile].find((option) => option?.flag.startsWith('--'));
    if (stray) throw new OptionError(stray.flag, 'needs --consul');
    return undefined;
  }
  const url = flags.consul;
  const rawToken = tokenFile ? readOptionFile(tokenFile.flag, tokenFile.value) : env.CONSUL_HTTP_TOKEN || undefined;
  const token = rawToken === undefined ? undefined : checkedToken(tokenFile?.flag ?? 'CONSUL_HTTP_TOKEN', rawToken);
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new OptionError(certFile?.flag ?? '--consul-cert', 'a client certificate and its key go together (--consul-cert and --consul-key)');
  }
  const tlsFlag = [caFile, certFile].find((option) => option !== undefined);
  if (tlsFlag && new URL(url).protocol !== 'https:') throw new OptionError(tlsFlag.flag, `is for an https Consul agent; --consul is ${url}`);
  const tls: ConsulTls = {
    ...(caFile ? { ca: pemFile(caFile.flag, caFile.value) } : {}),
    ...(certFile && keyFile ? { cert: pemFile(certFile.flag, certFile.value), key: pemFile(keyFile.flag, keyFile.value) } : {}),
  };
  return { url, ...(token !== undefined ? { token } : {}), ...(Object.keys(tls).length > 0 ? { tls } : {}) };
}
