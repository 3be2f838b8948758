import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIpAddress, parseIpPrefix } from '../../infra/net/ip-prefix-table.js';
import { buildLocationTable, loadLocationTable } from './location-table.js';
import { locateViewer, resolveClientAddress, ViewerInputError, type ViewerRequestFacts } from './viewer-location.js';
import { SHIPPED_LOCATIONS_FILE } from '../../stack/stack-topology.js';

const table = buildLocationTable({
  regions: { 'us-east': { lat: 39.04, lon: -77.49 } },
  prefixes: [
    { cidr: '127.0.1.0/24', region: 'us-east' },
    { cidr: '127.0.2.0/24', region: 'eu-west', lat: 53.35, lon: -6.26 },
    { cidr: '2001:db8:2::/48', region: 'eu-west', lat: 53.35, lon: -6.26 },
  ],
});
const trusted = [parseIpPrefix('10.0.0.0/8')];
const facts = (overrides: Partial<ViewerRequestFacts>): ViewerRequestFacts => ({
  peer: '127.0.1.5',
  forwardedFor: undefined,
  hintQuery: [],
  hintHeader: undefined,
  ...overrides,
});
const options = { table, trustedProxies: trusted, hintsEnabled: true, regionFallback: (region: string) => (region === 'ap-south' ? { region, lat: 19, lon: 72.8 } : undefined) };

describe('locateViewer', () => {
  const cases: [string, Partial<ViewerRequestFacts>, string | undefined, string][] = [
    ['IPv4 prefix', {}, 'us-east', 'prefix'],
    ['IPv4-mapped peer', { peer: '::ffff:127.0.2.9' }, 'eu-west', 'prefix'],
    ['IPv6 prefix', { peer: '2001:db8:2::9' }, 'eu-west', 'prefix'],
    ['no prefix', { peer: '192.0.2.1' }, undefined, 'unknown'],
    ['query hint wins over the prefix', { hintQuery: ['eu-west'] }, 'eu-west', 'hint'],
    ['header hint', { hintHeader: 'eu-west' }, 'eu-west', 'hint'],
    ['same hint twice is fine', { hintQuery: ['eu-west'], hintHeader: 'eu-west' }, 'eu-west', 'hint'],
    ['hint for a region only the edges know', { hintQuery: ['ap-south'] }, 'ap-south', 'hint'],
    ['XFF ignored from an untrusted peer', { peer: '127.0.1.5', forwardedFor: '127.0.2.1' }, 'us-east', 'prefix'],
    ['XFF believed from a trusted peer', { peer: '10.1.1.1', forwardedFor: '127.0.2.1' }, 'eu-west', 'prefix'],
    ['XFF walked past trusted hops', { peer: '10.1.1.1', forwardedFor: ['127.0.2.1, 10.2.2.2', '10.3.3.3'] }, 'eu-west', 'prefix'],
    ['XFF stops at the first untrusted hop from the right', { peer: '10.1.1.1', forwardedFor: '127.0.2.1, 127.0.1.1' }, 'us-east', 'prefix'],
    ['XFF with port and brackets', { peer: '10.1.1.1', forwardedFor: '[2001:db8:2::1]:443' }, 'eu-west', 'prefix'],
  ];
  for (const [name, overrides, region, source] of cases) {
    it(name, () => {
      const viewer = locateViewer(facts(overrides), options);
      assert.equal(viewer.place?.region, region);
      assert.equal(viewer.source, source);
    });
  }

  const errors: [string, Partial<ViewerRequestFacts>, boolean, RegExp][] = [
    ['hint when disabled', { hintQuery: ['eu-west'] }, false, /disabled/],
    ['unknown region', { hintQuery: ['mars'] }, true, /unknown region/],
    ['malformed hint', { hintHeader: '../etc' }, true, /malformed region hint/],
    ['conflicting hints', { hintQuery: ['eu-west'], hintHeader: 'us-east' }, true, /conflicting/],
    ['malformed XFF from a trusted proxy', { peer: '10.1.1.1', forwardedFor: '127.0.0.1, evil' }, true, /malformed X-Forwarded-For/],
    ['no peer address', { peer: undefined }, true, /client address/],
  ];
  for (const [name, overrides, hintsEnabled, message] of errors) {
    it(`400: ${name}`, () => {
      assert.throws(
        () => locateViewer(facts(overrides), { ...options, hintsEnabled }),
        (error: unknown) => error instanceof ViewerInputError && error.status === 400 && message.test(error.message),
      );
    });
  }

  it('reports the client address without the IPv4-mapped prefix', () => {
    assert.equal(resolveClientAddress('::ffff:127.0.0.1', undefined, []).text, '127.0.0.1');
  });
});

describe('buildLocationTable', () => {
  const bad: [unknown, RegExp][] = [
    [[], /JSON object/],
    [{ prefixes: [{ cidr: '10.0.0.0/99', region: 'a', lat: 1, lon: 1 }] }, /prefixes\[0\].*prefix length/],
    [{ prefixes: [{ cidr: '10.0.0.0/8', region: 'a' }] }, /prefixes\[0\]: needs "lat"/],
    [{ prefixes: [{ cidr: '10.0.0.0/8', region: 'a', lat: 91, lon: 0 }] }, /"lat" must be/],
    [{ prefixes: [{ cidr: '10.0.0.0/8', region: 'a b', lat: 1, lon: 0 }] }, /"region"/],
    [{ regions: { x: { lat: 'n', lon: 0 } }, prefixes: [] }, /regions.x/],
  ];
  for (const [document, message] of bad) {
    it(`rejects ${JSON.stringify(document).slice(0, 70)}`, () => assert.throws(() => buildLocationTable(document), message));
  }
});

describe('the shipped location table (stack/locations.json)', () => {
  it('loads and maps the demo client addresses to their regions', async () => {
    const shipped = await loadLocationTable(SHIPPED_LOCATIONS_FILE);
    const regionOf = (address: string): string | undefined => shipped.lookup(parseIpAddress(address)!)?.region;
    assert.equal(regionOf('127.0.1.10'), 'us-east');
    assert.equal(regionOf('127.0.2.10'), 'eu-west');
  });
});
