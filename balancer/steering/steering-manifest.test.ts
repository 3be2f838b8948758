import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSteeringManifest, demotionsFromReport, issuedPathwayReport, parseViewerReport, SteeringQueryError } from './steering-manifest.js';

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
  const now = 1_000_000;
  const policy = { slowBelowBps: 300_000, slowRatio: 0.5, reportMemoryMs: 60_000 };
  type Report = { pathway?: string; throughput?: number };
  type History = Record<string, { bps: number; agoMs: number }>;
  const cases: [string, string | undefined, Report, History, { edgeId: string; reason: string }[]][] = [
    ['on the pathway we put first, fast', 'edge-1', { pathway: 'edge-1', throughput: 5_000_000 }, {}, []],
    ['moved away from our first choice', 'edge-1', { pathway: 'edge-2', throughput: 5_000_000 }, {}, [{ edgeId: 'edge-1', reason: 'viewer-moved-away' }]],
    ['slow, nothing else known: the viewer may be the bottleneck', 'edge-1', { pathway: 'edge-1', throughput: 100_000 }, {}, []],
    ['slow, and only its own earlier report was better', 'edge-1', { pathway: 'edge-1', throughput: 100_000 }, { 'edge-1': { bps: 5_000_000, agoMs: 4_000 } }, []],
    ['slow everywhere (CPU-starved viewer): no flip', 'edge-2', { pathway: 'edge-2', throughput: 150_000 }, { 'edge-1': { bps: 200_000, agoMs: 4_000 } }, []],
    ['slow, and clearly better on another pathway recently', 'edge-1', { pathway: 'edge-1', throughput: 100_000 }, { 'edge-2': { bps: 5_000_000, agoMs: 30_000 } }, [{ edgeId: 'edge-1', reason: 'slow' }]],
    ['slow, but the better report is too old', 'edge-1', { pathway: 'edge-1', throughput: 100_000 }, { 'edge-2': { bps: 5_000_000, agoMs: 61_000 } }, []],
    ['just above the ratio is not clearly below', 'edge-1', { pathway: 'edge-1', throughput: 250_000 }, { 'edge-2': { bps: 499_000, agoMs: 1_000 } }, []],
    ['above the slow threshold, however much better elsewhere', 'edge-1', { pathway: 'edge-1', throughput: 2_000_000 }, { 'edge-2': { bps: 50_000_000, agoMs: 1_000 } }, []],
    [
      'moved away, and slow where it went compared with where it was',
      'edge-1',
      { pathway: 'edge-2', throughput: 100_000 },
      { 'edge-1': { bps: 4_000_000, agoMs: 4_000 } },
      [{ edgeId: 'edge-1', reason: 'viewer-moved-away' }, { edgeId: 'edge-2', reason: 'slow' }],
    ],
    ['no report yet', 'edge-1', {}, { 'edge-2': { bps: 5_000_000, agoMs: 1_000 } }, []],
    ['unknown session', undefined, { pathway: 'edge-2', throughput: 5_000_000 }, {}, []],
    ['zero throughput means not measured', 'edge-1', { pathway: 'edge-1', throughput: 0 }, { 'edge-2': { bps: 5_000_000, agoMs: 1_000 } }, []],
  ];
  for (const [name, advertised, report, history, expected] of cases) {
    it(name, () => {
      const seen = new Map(Object.entries(history).map(([pathway, { bps, agoMs }]) => [pathway, { bps, at: now - agoMs }]));
      const context = { advertised, report: { pathway: report.pathway, throughput: report.throughput }, history: seen, now };
      assert.deepEqual(demotionsFromReport(context, policy), expected);
    });
  }
  it('never demotes for slowness with a threshold of 0', () => {
    const context = { advertised: 'edge-1', report: { pathway: 'edge-1', throughput: 1 }, history: new Map([['edge-2', { bps: 9_000_000, at: now }]]), now };
    assert.deepEqual(demotionsFromReport(context, { ...policy, slowBelowBps: 0 }), []);
  });
  it('hears a pathway the balancer did not issue as no pathway, so a made-up id demotes and stores nothing', () => {
    const issued = (pathway: string): boolean => ['edge-1', 'edge-2'].includes(pathway);
    assert.deepEqual(issuedPathwayReport({ pathway: 'edge-2', throughput: 5_000_000 }, issued), { pathway: 'edge-2', throughput: 5_000_000 });
    const madeUp = issuedPathwayReport({ pathway: 'edge-999', throughput: 1 }, issued);
    assert.deepEqual(madeUp, { pathway: undefined, throughput: undefined });
    const history = new Map([['edge-1', { bps: 50_000_000, at: 0 }]]);
    assert.deepEqual(demotionsFromReport({ advertised: 'edge-1', report: madeUp, history, now: 1 }, { slowBelowBps: 10_000_000, slowRatio: 0.5, reportMemoryMs: 60_000 }), []);
  });
});
