import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServiceInstance } from '../../infra/consul/service-watch.js';
import { readOriginRegistration } from './origin-source.js';

const instance = (address: string, meta: Record<string, string> = {}): ServiceInstance => ({ id: 'origin-1', address, port: 8091, meta, tags: [] });

describe('readOriginRegistration (Consul entry → replica URL)', () => {
  const accepted: [string, ServiceInstance, string][] = [
    ['the advertised base URL (--url)', instance('127.0.0.1', { url: 'http://origin-1.example:80/' }), 'http://origin-1.example'],
    ['an https base URL', instance('10.0.0.5', { url: 'https://origin.example:8443' }), 'https://origin.example:8443'],
    ['an IPv6 base URL', instance('::1', { url: 'http://[::1]:8091/' }), 'http://[::1]:8091'],
  ];
  for (const [name, entry, url] of accepted) {
    it(name, () => {
      const reading = readOriginRegistration(entry);
      assert.ok('value' in reading, JSON.stringify(reading));
      assert.deepEqual(reading.value, { id: 'origin-1', url });
    });
  }
  // What every origin registers is required: without it, a registration is not an origin's.
  const refused: [string, ServiceInstance, RegExp][] = [
    ['no url', instance('10.0.0.5'), /missing meta url/],
    ['a url that does not parse', instance('10.0.0.5', { url: 'not a url' }), /not an absolute URL/],
    ['a url of another scheme', instance('10.0.0.5', { url: 'ftp://origin.example/' }), /http or https/],
    ['a url with a path', instance('10.0.0.5', { url: 'http://origin.example/content' }), /plain base URL/],
    ['a url with credentials', instance('10.0.0.5', { url: 'http://user:pw@origin.example/' }), /plain base URL/],
  ];
  for (const [name, entry, reason] of refused) {
    it(`refuses ${name}`, () => {
      const reading = readOriginRegistration(entry);
      assert.ok('reason' in reading, JSON.stringify(reading));
      assert.match(reading.reason, reason);
    });
  }
});
