import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSteeringManifest, demotionsFromReport, parseViewerReport, SteeringQueryError } from './steering-manifest.js';

describe('buildSteeringManifest', () => {
  it('has the fields hls.js reads', () => {
    assert.deepEqual(buildSteeringManifest(['edge-1', 'edge-2'], 10, '/steering/vod/a?session=x'), {
      VERSION: 1,
      TTL: 10,
      'RELOAD-URI': '/steering/vod/a?session=x',
      'PATHWAY-PRIORITY': ['edge-1', 'edge-2'],
    });
  });
});

describe('parseViewerReport', () => {
  const cases: [string, { pathway: string | undefined; throughput: number | undefined }][] = [
    ['', { pathway: undefined, throughput: undefined }],
    ['_HLS_pathway=.&_HLS_throughput=500000', { pathway: undefined, throughput: 500_000 }],
    ['_HLS_pathway=edge-2&_HLS_throughput=1234567', { pathway: 'edge-2', throughput: 1_234_567 }],
  ];
  for (const [query, expected] of cases) it(`"${query}"`, () => assert.deepEqual(parseViewerReport(new URLSearchParams(query)), expected));
  for (const query of ['_HLS_pathway=../x', '_HLS_throughput=-1', '_HLS_throughput=1e9', '_HLS_pathway=a&_HLS_pathway=b', `_HLS_throughput=${'9'.repeat(20)}`]) {
    it(`400 for "${query.slice(0, 40)}"`, () => assert.throws(() => parseViewerReport(new URLSearchParams(query)), SteeringQueryError));
  }
});

describe('demotionsFromReport', () => {
  const cases: [string, string | undefined, { pathway?: string; throughput?: number }, { edgeId: string; reason: string }[]][] = [
    ['viewer on the pathway we put first, fast', 'edge-1', { pathway: 'edge-1', throughput: 5_000_000 }, []],
    ['viewer moved away from our first choice', 'edge-1', { pathway: 'edge-2', throughput: 5_000_000 }, [{ edgeId: 'edge-1', reason: 'viewer-moved-away' }]],
    ['viewer slow on its pathway', 'edge-1', { pathway: 'edge-1', throughput: 100_000 }, [{ edgeId: 'edge-1', reason: 'slow' }]],
    ['both', 'edge-1', { pathway: 'edge-2', throughput: 100_000 }, [{ edgeId: 'edge-1', reason: 'viewer-moved-away' }, { edgeId: 'edge-2', reason: 'slow' }]],
    ['no report yet', 'edge-1', {}, []],
    ['unknown session', undefined, { pathway: 'edge-2', throughput: 5_000_000 }, []],
    ['zero throughput means not measured', 'edge-1', { pathway: 'edge-1', throughput: 0 }, []],
  ];
  for (const [name, preferred, report, expected] of cases) {
    it(name, () => assert.deepEqual(demotionsFromReport(preferred, { pathway: report.pathway, throughput: report.throughput }, 300_000), expected));
  }
});
