import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStaticEdges, readEdgeRegistration } from './edge-discovery.js';
import { parseStaticEdgeSpec } from './edge-node.js';

describe('parseStaticEdgeSpec', () => {
  it('reads URL;id=…;region=…;lat=…;lon=…[;weight=…]', () => {
    assert.deepEqual(parseStaticEdgeSpec('http://127.0.0.1:8081/;id=edge-1;region=us-east;lat=39.04;lon=-77.49'), {
      edge: { id: 'edge-1', url: 'http://127.0.0.1:8081', region: 'us-east', lat: 39.04, lon: -77.49, weight: 1 },
    });
    assert.equal(
      (parseStaticEdgeSpec('https://cdn.example/edge-3;id=edge-3;region=eu-west;lat=53.35;lon=-6.26;weight=2') as { edge: { url: string; weight: number } }).edge.weight,
      2,
    );
  });
  const bad: [string, RegExp][] = [
    ['http://x:1;region=a;lat=1;lon=1', /id must be/],
    ['http://x:1;id=e;lat=1;lon=1', /region must be/],
    ['http://x:1;id=e;region=a;lat=95;lon=1', /lat must be/],
    ['http://x:1;id=e;region=a;lat=1', /missing lon/],
    ['ftp://x;id=e;region=a;lat=1;lon=1', /http or https/],
    ['http://x:1/?q=1;id=e;region=a;lat=1;lon=1', /query/],
    ['not a url;id=e;region=a;lat=1;lon=1', /absolute URL/],
    ['http://x:1;id=e;region=a;lat=1;lon=1;weight=0', /weight/],
    ['http://x:1;id=e;id=f;region=a;lat=1;lon=1', /given twice/],
    ['http://x:1;id=e;colour=red', /unexpected/],
  ];
  for (const [spec, reason] of bad) {
    it(`rejects ${spec}`, () => {
      const result = parseStaticEdgeSpec(spec);
      assert.ok('reason' in result && reason.test(result.reason), JSON.stringify(result));
    });
  }
  it('refuses duplicate ids in a static list', () => {
    assert.throws(() => parseStaticEdges(['http://a:1;id=e;region=r;lat=1;lon=1', 'http://b:1;id=e;region=r;lat=1;lon=1']), /given twice/);
  });
});

describe('readEdgeRegistration (Consul service meta)', () => {
  const instance = (meta: Record<string, string>) => ({ id: 'edge-1', address: '127.0.0.1', port: 8081, meta, tags: [] });
  it('builds an edge from valid meta', () => {
    assert.deepEqual(readEdgeRegistration(instance({ region: 'us-east', lat: '39.04', lon: '-77.49', url: 'http://127.0.0.1:8081' })), {
      value: { id: 'edge-1', url: 'http://127.0.0.1:8081', region: 'us-east', lat: 39.04, lon: -77.49, weight: 1 },
      url: 'http://127.0.0.1:8081',
    });
  });
  for (const [meta, reason] of [
    [{ lat: '1', lon: '1', url: 'http://a' }, /region/],
    [{ region: 'r', lat: 'north', lon: '1', url: 'http://a' }, /lat/],
    [{ region: 'r', lat: '1', lon: '1' }, /missing url/],
    [{ region: 'r', lat: '1', lon: '1', url: 'javascript:alert(1)' }, /http or https/],
  ] as [Record<string, string>, RegExp][]) {
    it(`skips ${JSON.stringify(meta)} with a reason`, () => {
      const result = readEdgeRegistration(instance(meta));
      assert.ok('reason' in result && reason.test(result.reason), JSON.stringify(result));
    });
  }
});
