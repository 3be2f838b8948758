import { Agent as HttpsAgent } from 'node:https';
import Consul from 'consul';
import type { ConsulConnection } from './consul-connection.js';

/** A `consul` client for an agent such as http://127.0.0.1:8500, sending the role's ACL token. */
export function createConsulClient(connection: ConsulConnection): Consul {
  const url = new URL(connection.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`consul URL must be http(s), got "${connection.url}"`);
  }
  const secure = url.protocol === 'https:';
  return new Consul({
    host: url.hostname,
    port: Number(url.port || (secure ? 443 : 80)),
    secure,
    ...(connection.token !== undefined ? { defaults: { token: connection.token } } : {}),
    ...(secure && connection.tls ? { agent: new HttpsAgent({ keepAlive: true, ...connection.tls }) } : {}),
  });
}

/**
 * What went wrong talking to Consul, in its own words: the client's errors say only "forbidden",
 * while Consul's body names the missing permission (an ACL token without the role's policy).
 */
export function consulErrorMessage(error: unknown): string {
  const { message, response } = error as { message?: string; response?: { statusCode?: number; body?: unknown } };
  const body = typeof response?.body === 'string' ? response.body.trim().slice(0, 300) : '';
  if (response?.statusCode === undefined || body === '') return message ?? String(error);
  const hint = response.statusCode === 403 ? " (give this role's ACL token: --consul-token-file or CONSUL_HTTP_TOKEN_FILE)" : '';
  return `${response.statusCode} ${body}${hint}`;
}
