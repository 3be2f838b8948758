import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServiceInstance } from '../../infra/consul/service-watch.js';
import { originReplicaFor } from './origin-source.js';

const instance = (address: string, meta: Record<string, string> = {}): ServiceInstance => ({ id: 'origin-1', address, port: 8091, meta, tags: [] });

describe('originReplicaFor (Consul entry → replica URL)', () => {
  const cases: [string, ServiceInstance, string][] = [
    ['the advertised base URL (--url)', instance('127.0.0.1', { url: 'http://origin-1.example:80/' }), 'http://origin-1.example'],
    ['an https base URL', instance('10.0.0.5', { url: 'https://origin.example:8443' }), 'https://origin.example:8443'],
    ['no url: address and port', instance('10.0.0.5'), 'http://10.0.0.5:8091'],
    ['an IPv6 address is bracketed', instance('::1'), 'http://[::1]:8091'],
    ['a url that does not parse: address and port', instance('10.0.0.5', { url: 'not a url' }), 'http://10.0.0.5:8091'],
    ['a url of another scheme: address and port', instance('10.0.0.5', { url: 'ftp://origin.example/' }), 'http://10.0.0.5:8091'],
    ['a url with a path is not a base URL: address and port', instance('10.0.0.5', { url: 'http://origin.example/content' }), 'http://10.0.0.5:8091'],
    ['a url with credentials: address and port', instance('10.0.0.5', { url: 'http://user:pw@origin.example/' }), 'http://10.0.0.5:8091'],
  ];
  for (const [name, entry, url] of cases) it(name, () => assert.equal(originReplicaFor(entry).url, url));
});
