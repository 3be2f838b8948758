import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { parseIpPrefix } from '../net/ip-prefix-table.js';
import { OptionError } from '../runtime/command-options.js';
import { allowListFromFlag, createRegistrationScreen, screenRegistration, type RegistrationReading } from './registration-screen.js';
import type { ServiceInstance } from './service-watch.js';

const instance = (id: string, address: string, meta: Record<string, string>): ServiceInstance => ({ id, address, port: 8091, meta, tags: [] });

/** Reads meta `url` (and nothing else) as the role's value. */
const readUrl = (entry: ServiceInstance): RegistrationReading<string> => (entry.meta.url ? { value: entry.id, url: entry.meta.url } : { reason: 'missing meta url' });

const ALLOW = [parseIpPrefix('10.1.0.0/16'), parseIpPrefix('2001:db8:1::/48')];

describe('screenRegistration: each reason a registration is ignored', () => {
  it('bad-meta: the role\'s meta is missing or wrong, allow-list or not', () => {
    for (const allow of [[], ALLOW]) {
      assert.deepEqual(screenRegistration(instance('a', '10.1.0.5', {}), allow, readUrl), { reason: 'bad-meta', detail: 'missing meta url' });
    }
  });

  it('address-not-allowed: the registered address lies outside every prefix', () => {
    assert.deepEqual(screenRegistration(instance('a', '10.2.0.5', { url: 'http://10.1.0.5:8091' }), ALLOW, readUrl), { reason: 'address-not-allowed', detail: 'address 10.2.0.5 is outside the allow-list' });
    assert.equal((screenRegistration(instance('a', '2001:db8:2::5', { url: 'http://[2001:db8:1::5]:8091' }), ALLOW, readUrl) as { reason: string }).reason, 'address-not-allowed');
    assert.equal((screenRegistration(instance('a', 'origin.example', { url: 'http://10.1.0.5:8091' }), ALLOW, readUrl) as { reason: string }).reason, 'address-not-allowed', 'a name is no address in the list');
  });

  it('url-not-allowed: the advertised URL points outside the prefixes, or names a host', () => {
    assert.deepEqual(screenRegistration(instance('a', '10.1.0.5', { url: 'http://192.0.2.7:8091' }), ALLOW, readUrl), { reason: 'url-not-allowed', detail: 'url host 192.0.2.7 is outside the allow-list' });
    assert.deepEqual(screenRegistration(instance('a', '10.1.0.5', { url: 'http://evil.example:8091' }), ALLOW, readUrl), { reason: 'url-not-allowed', detail: 'url host evil.example is a name, not an address in the allow-list' });
  });

  it('accepts inside the prefixes (IPv4 and IPv6), and any address without an allow-list', () => {
    assert.deepEqual(screenRegistration(instance('a', '10.1.200.5', { url: 'http://10.1.0.5:8091' }), ALLOW, readUrl), { value: 'a' });
    assert.deepEqual(screenRegistration(instance('a', '2001:db8:1::9', { url: 'http://[2001:db8:1::5]:8091' }), ALLOW, readUrl), { value: 'a' });
    assert.deepEqual(screenRegistration(instance('a', '192.0.2.7', { url: 'http://evil.example' }), [], readUrl), { value: 'a' });
  });
});

describe('createRegistrationScreen', () => {
  it('logs an ignored registration once per change, not per answer, and counts the ignored by reason', () => {
    const lines: { msg: string; id: string; reason: string }[] = [];
    const sink = new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(JSON.parse(chunk.toString())); done(); } });
    const screen = createRegistrationScreen({ service: 'streamedge-origin', allow: ALLOW, read: readUrl, logger: pino({ level: 'warn' }, sink) });
    const good = instance('good', '10.1.0.5', { url: 'http://10.1.0.5:8091' });
    const rogue = instance('rogue', '192.0.2.7', { url: 'http://192.0.2.7:8091' });
    const bare = instance('bare', '10.1.0.6', {});
    for (let poll = 0; poll < 3; poll++) assert.deepEqual(screen.screen([good, rogue, bare]), ['good']);
    assert.deepEqual(lines.map((line) => [line.id, line.reason]), [['rogue', 'address-not-allowed'], ['bare', 'bad-meta']]);
    assert.match(lines[0]!.msg, /ignoring a streamedge-origin registration/);
    assert.deepEqual(screen.ignoredCounts(), { 'bad-meta': 1, 'address-not-allowed': 1, 'url-not-allowed': 0 });
    // A new reason is a change: logged again.
    screen.screen([good, instance('rogue', '10.1.0.7', { url: 'http://192.0.2.7:8091' })]);
    assert.deepEqual(lines.slice(2).map((line) => [line.id, line.reason]), [['rogue', 'url-not-allowed']]);
    assert.deepEqual(screen.ignoredCounts(), { 'bad-meta': 0, 'address-not-allowed': 0, 'url-not-allowed': 1 });
    // Gone, then back: logged again.
    screen.screen([good]);
    screen.screen([good, rogue]);
    assert.equal(lines.length, 4);
  });
});

describe('allowListFromFlag', () => {
  it('parses IPv4 and IPv6 CIDRs and names the flag for a bad one', () => {
    assert.deepEqual(allowListFromFlag('--origin-allow', ['10.0.0.0/8', '::1/128']).map((prefix) => prefix.text), ['10.0.0.0/8', '::1/128']);
    assert.throws(() => allowListFromFlag('--origin-allow', ['10.0.0.0/33']), (error: unknown) => error instanceof OptionError && /--origin-allow/.test(error.message));
    assert.throws(() => allowListFromFlag('--edge-allow', ['not-a-cidr']), (error: unknown) => error instanceof OptionError && /--edge-allow/.test(error.message));
  });
});
