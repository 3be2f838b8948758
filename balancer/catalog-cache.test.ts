import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCatalogCache } from './catalog-cache.js';
import type { EdgeFetcher, EdgeResponse } from './fronts/edge-fetch.js';
import type { EdgeNode } from './discovery/edge-node.js';

const edge: EdgeNode = { id: 'edge-1', url: 'http://127.0.0.1:1', region: 'us-east', lat: 0, lon: 0, weight: 1 };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function fakeFetcher(answers: (string | Error)[]): EdgeFetcher & { calls: number } {
  const fetcher = {
    calls: 0,
    async fetch(): Promise<EdgeResponse> {
      fetcher.calls++;
      await sleep(5);
      const answer = answers.length > 1 ? answers.shift()! : answers[0]!;
      if (answer instanceof Error) throw answer;
      return { edge, status: 200, headers: {}, body: Buffer.from(answer), failures: [] };
    },
  };
  return fetcher;
}

describe('createCatalogCache', () => {
  const good = JSON.stringify({ assets: [{ id: 'demo-ts' }] });

  it('fetches once for concurrent requests and serves from memory while fresh', async () => {
    const fetcher = fakeFetcher([good]);
    const cache = createCatalogCache({ fetcher, freshMs: 1_000, staleIfErrorMs: 5_000 });
    const answers = await Promise.all([cache.get([edge]), cache.get([edge]), cache.get([edge])]);
    assert.equal(fetcher.calls, 1);
    assert.ok(answers.every((answer) => answer.body.toString() === good && !answer.stale));
    await cache.get([edge]);
    assert.equal(fetcher.calls, 1);
  });

  it('serves the last good catalog, marked stale, when no edge answers, until it is too old', async () => {
    const fetcher = fakeFetcher([good, new Error('no edge could serve /catalog.json')]);
    let clock = 0;
    const cache = createCatalogCache({ fetcher, freshMs: 10, staleIfErrorMs: 60, now: () => clock });
    await cache.get([edge]);
    clock = 20;
    const stale = await cache.get([edge]);
    assert.equal(stale.stale, true);
    clock = 80;
    await assert.rejects(cache.get([edge]), /no edge could serve/);
  });

  it('refuses a body that is not a catalog', async () => {
    const cache = createCatalogCache({ fetcher: fakeFetcher(['<html>']), freshMs: 10, staleIfErrorMs: 0 });
    await assert.rejects(cache.get([edge]), /not JSON/);
    const noAssets = createCatalogCache({ fetcher: fakeFetcher(['{"items":[]}']), freshMs: 10, staleIfErrorMs: 0 });
    await assert.rejects(noAssets.get([edge]), /no "assets" list/);
  });
});
