import Consul from 'consul';

/** A `consul` client for an agent's HTTP address such as http://127.0.0.1:8500. */
export function createConsulClient(consulUrl: string): Consul {
  const url = new URL(consulUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`consul URL must be http(s), got "${consulUrl}"`);
  }
  return new Consul({
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    secure: url.protocol === 'https:',
  });
}
