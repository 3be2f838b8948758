// A server's TLS certificate and key, read from files given as --tls-cert and --tls-key: checked at
// start-up (a bad file is an error naming its flag) and read again on SIGHUP, when a good new pair
// replaces the old one for new connections (open ones keep theirs) and a bad one is logged and
// ignored. The key's bytes never reach a log line or an error message. Also --tls-ca, the extra CA
// trusted when this process connects to https upstreams (origins, edges).
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates, type SecureContextOptions } from 'node:tls';
import { OptionError } from '../runtime/command-options.js';
import type { Logger } from '../runtime/logger.js';

export const TLS_SERVER_OPTIONS = {
  'tls-cert': { kind: 'string', description: 'PEM certificate (chain) file: serve HTTPS with --tls-key; read again on SIGHUP' },
  'tls-key': { kind: 'string', description: 'PEM private key file of --tls-cert (never logged); read again on SIGHUP' },
} as const;

export const TLS_TRUST_OPTION = {
  'tls-ca': { kind: 'string', description: 'PEM CA bundle trusted, beside the system roots, for https upstreams (certificates are always verified)' },
} as const;

export interface TlsServerFlags {
  readonly 'tls-cert'?: string | undefined;
  readonly 'tls-key'?: string | undefined;
}

/** The files and the pair they held when last read successfully. */
export interface ServerCredentials {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
  /** For logs: the certificate's subject, expiry and SHA-256 fingerprint (never anything of the key). */
  readonly summary: CertificateSummary;
}

export interface CertificateSummary {
  readonly subject: string;
  readonly validTo: string;
  readonly fingerprint256: string;
}

function readFile(flag: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new OptionError(flag, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/**
 * Reads and checks a certificate and its key: each must parse as PEM, the certificate must be
 * within its validity period, and the key must be the certificate's. Throws OptionError naming
 * the flag at fault; the message never quotes the key.
 */
export function readServerCredentials(certFile: string, keyFile: string, nowMs = Date.now()): ServerCredentials {
  const cert = readFile('--tls-cert', certFile);
  const key = readFile('--tls-key', keyFile);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch {
    throw new OptionError('--tls-cert', `${certFile} holds no PEM certificate`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    // Node's own message may describe the key's content; say only that it did not parse.
    throw new OptionError('--tls-key', `${keyFile} holds no usable PEM private key (an encrypted key is not supported)`);
  }
  if (!leaf.checkPrivateKey(privateKey)) throw new OptionError('--tls-key', `${keyFile} is not the private key of the certificate in ${certFile}`);
  if (Date.parse(leaf.validTo) <= nowMs) throw new OptionError('--tls-cert', `${certFile} expired on ${leaf.validTo}`);
  if (Date.parse(leaf.validFrom) > nowMs) throw new OptionError('--tls-cert', `${certFile} is not valid before ${leaf.validFrom}`);
  return { certFile, keyFile, cert, key, summary: { subject: leaf.subject.replace(/\n/g, ', '), validTo: leaf.validTo, fingerprint256: leaf.fingerprint256 } };
}

/** The credentials the flags name, or undefined without them; one flag without the other is an error. */
export function serverCredentialsFrom(flags: TlsServerFlags): ServerCredentials | undefined {
  const certFile = flags['tls-cert'];
  const keyFile = flags['tls-key'];
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (keyFile === undefined) throw new OptionError('--tls-key', 'required with --tls-cert');
  if (certFile === undefined) throw new OptionError('--tls-cert', 'required with --tls-key');
  return readServerCredentials(certFile, keyFile);
}

/** The PEM bundle of `--tls-ca`, or undefined without it. */
export function trustedCaFrom(flags: { readonly 'tls-ca'?: string | undefined }): string | undefined {
  const path = flags['tls-ca'];
  if (path === undefined) return undefined;
  const pem = readFile('--tls-ca', path);
  try {
    new X509Certificate(pem);
  } catch {
    throw new OptionError('--tls-ca', `${path} holds no PEM certificate`);
  }
  return pem;
}

/** TLS client options trusting the system roots and `ca`: certificates are always verified. */
export function clientTrust(ca: string | undefined): Pick<SecureContextOptions, 'ca'> {
  return ca === undefined ? {} : { ca: [...rootCertificates, ca] };
}

/** What a TLS server offers to reload: Node's setSecureContext (tls.Server, https, http2). */
export interface ReloadableTlsServer {
  setSecureContext(options: SecureContextOptions): void;
}

export interface CredentialsReloader {
  /** Reads the files again; the new pair is used for new connections, or the old one kept (logged). */
  reload(): boolean;
  /** Stops listening for SIGHUP. */
  stop(): void;
}

/**
 * Handles SIGHUP (`systemctl reload`): reads the files again and swaps the servers' secure context;
 * a pair that does not pass readServerCredentials is logged with its reason and the servers keep
 * the old one. Without TLS there is nothing to reload, and the signal is logged rather than ending
 * the process (Node's default).
 */
export function reloadOnHangup(servers: readonly ReloadableTlsServer[], initial: ServerCredentials | undefined, logger: Logger): CredentialsReloader {
  let current = initial;
  const reload = (): boolean => {
    if (current === undefined) {
      logger.info('SIGHUP: nothing to reload (no --tls-cert)');
      return false;
    }
    let next: ServerCredentials;
    try {
      next = readServerCredentials(current.certFile, current.keyFile);
      for (const server of servers) server.setSecureContext({ cert: next.cert, key: next.key });
    } catch (error) {
      logger.error({ err: (error as Error).message, certFile: current.certFile, keyFile: current.keyFile, kept: current.summary }, 'TLS certificate reload failed; keeping the current one');
      return false;
    }
    current = next;
    logger.info({ certFile: next.certFile, certificate: next.summary }, 'TLS certificate reloaded');
    return true;
  };
  const onHangup = (): void => {
    reload();
  };
  process.on('SIGHUP', onHangup);
  return {
    reload,
    stop() {
      process.off('SIGHUP', onHangup);
    },
  };
}
