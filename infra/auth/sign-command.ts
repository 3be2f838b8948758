// `streamedge sign`: prints a signed master URL for a title, valid for --ttl under --path.
import { isIP } from 'node:net';
import { OptionError, parseCommandOptions } from '../runtime/command-options.js';
import { readTokenKeyFile } from './token-key-files.js';
import { checkedPrefix, signUrlToken } from './url-token.js';

const SUMMARY = `Prints a signed URL: one token covers every path under --path (a title's master playlist,
media playlists and segments) until --ttl has passed, optionally for one viewer address only.
Edges and the balancer started with --token-secret-file holding the same key accept it.

  streamedge sign --secret-file /etc/streamedge/url-token.key --path /vod/demo-ts/ --ttl 2h

The token is in query parameters st (HMAC-SHA256, base64url), exp (unix seconds), pfx (the path
prefix), kid (the key id) and, with --client-ip, ip.`;

const SPECS = {
  'secret-file': { kind: 'string', required: true, description: 'file holding the signing key as kid:secret (never the secret itself on the command line)' },
  path: { kind: 'string', required: true, description: 'path prefix the token covers, ending in / (e.g. /vod/<asset>/)' },
  ttl: { kind: 'duration', default: '2h', min: 1000, max: 366 * 24 * 3_600_000, description: 'how long the token is valid' },
  'client-ip': { kind: 'string', description: 'only this viewer address may use the token' },
  'base-url': { kind: 'url', default: 'http://127.0.0.1:8080', description: 'the balancer (or edge) base URL the printed URL starts with' },
  playlist: { kind: 'string', default: 'master.m3u8', description: 'the playlist under --path the printed URL names' },
} as const;

export async function main(argv: readonly string[]): Promise<void> {
  const options = parseCommandOptions('sign', SUMMARY, SPECS, argv);
  const key = readTokenKeyFile('--secret-file', options['secret-file']);
  try {
    checkedPrefix(options.path);
  } catch (error) {
    throw new OptionError('--path', (error as Error).message);
  }
  if (options['client-ip'] !== undefined && isIP(options['client-ip']) === 0) throw new OptionError('--client-ip', 'not an IP address');
  if (!/^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/.test(options.playlist) || options.playlist.split('/').includes('..')) throw new OptionError('--playlist', 'a relative path under --path');
  const expires = Math.floor((Date.now() + options.ttl) / 1000);
  const query = signUrlToken(key, { prefix: options.path, expires, clientAddress: options['client-ip'] });
  process.stdout.write(`${options['base-url'].replace(/\/+$/, '')}${options.path}${options.playlist}?${query}\n`);
}
