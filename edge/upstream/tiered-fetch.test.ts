import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { deadOriginUrl, object, sha256Etag, startTestOrigin, type TestOrigin } from '../test/test-origin.js';
import { fetchThroughTiers, type TierResult, type UpstreamTier, type UpstreamTierName } from './tiered-fetch.js';
import { createUpstreamClient, type UpstreamClient } from './upstream-client.js';

const BODY = randomBytes(256 * 1024);
const ETAG = sha256Etag(BODY);

function client(url: string): UpstreamClient {
  const created = createUpstreamClient({ hedgeDelayMs: 0, connectTimeoutMs: 500, headersTimeoutMs: 2000, bodyTimeoutMs: 2000, connectionsPerReplica: 4, ejectAfterFailures: 3, ejectForMs: 100 });
  created.setReplicas([{ id: url, url }]);
  return created;
}

async function read(body: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Sends the head and the first `cut` bytes of BODY, then resets the connection. */
function breaking(cut: number, etag = ETAG) {
  return (_req: unknown, res: ServerResponse): void => {
    res.writeHead(200, { etag, 'content-length': String(BODY.length), 'cache-control': 'max-age=60' });
    res.write(BODY.subarray(0, cut), () => setTimeout(() => res.socket?.resetAndDestroy(), 20));
  };
}

/** BODY with `bytes=N-` ranges as 206s. */
function ranged(etag = ETAG) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const headers = { etag, 'content-length': String(BODY.length - start) };
    res.writeHead(range ? 206 : 200, range ? { ...headers, 'content-range': `bytes ${start}-${BODY.length - 1}/${BODY.length}` } : headers);
    res.end(BODY.subarray(start));
  };
}

describe('fetch through tiers', () => {
  let shield: TestOrigin;
  let origin: TestOrigin;
  let dead: string;
  const clients: UpstreamClient[] = [];
  const tiers = (...list: [UpstreamTierName, string][]): UpstreamTier[] =>
    list.map(([name, url]) => {
      const created = client(url);
      clients.push(created);
      return { name, client: created };
    });
  before(async () => {
    shield = await startTestOrigin();
    origin = await startTestOrigin();
    dead = await deadOriginUrl();
  });
  after(async () => {
    await Promise.all(clients.map((created) => created.close()));
    await shield.close();
    await origin.close();
  });

  it('passes a fetch to the next tier when one cannot connect or answers 5xx; the last tier\'s answer stands', async () => {
    shield.route('/5xx', (_req, res) => {
      res.writeHead(503);
      res.end('busy');
    });
    origin.route('/5xx', object(BODY));
    const seen: [UpstreamTierName, TierResult][] = [];
    const observer = { onTier: (tier: UpstreamTierName, result: TierResult) => void seen.push([tier, result]) };
    const fromDead = await fetchThroughTiers(tiers(['shield', dead], ['origin', origin.url]), '/5xx', {}, observer);
    assert.equal(fromDead.tier, 'origin');
    assert.ok((await read(fromDead.body)).equals(BODY));
    const from5xx = await fetchThroughTiers(tiers(['shield', shield.url], ['origin', origin.url]), '/5xx', {}, observer);
    assert.equal(from5xx.tier, 'origin');
    await read(from5xx.body);
    assert.deepEqual(seen, [['shield', 'failed'], ['origin', 'answered'], ['shield', 'http-5xx'], ['origin', 'answered']]);
    origin.route('/origin-5xx', (_req, res) => {
      res.writeHead(502);
      res.end('bad');
    });
    const last = await fetchThroughTiers(tiers(['origin', origin.url]), '/origin-5xx', {});
    assert.equal(last.status, 502);
    await read(last.body);
    await assert.rejects(fetchThroughTiers(tiers(['shield', dead], ['origin', dead]), '/x', {}), /unreachable/);
  });

  it('continues a body that breaks off from the next tier with a Range for the rest, byte for byte', async () => {
    shield.route('/break', breaking(100_000));
    origin.route('/break', ranged());
    const seen: TierResult[] = [];
    const response = await fetchThroughTiers(tiers(['shield', shield.url], ['origin', origin.url]), '/break', {}, { onTier: (_tier, result) => void seen.push(result) });
    const bytes = await read(response.body);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), createHash('sha256').update(BODY).digest('hex'));
    assert.equal(origin.hits.get('/break'), 1);
    assert.deepEqual(seen, ['answered', 'answered', 'resumed']);
    // Its bytes came from two replicas: bad ones could not be pinned on either.
    assert.equal(response.soleSource(), undefined);
  });

  it('names the one replica a body came from whole, so the fill can eject it for bad bytes', async () => {
    shield.route('/whole', object(BODY));
    const list = tiers(['shield', shield.url], ['origin', origin.url]);
    const response = await fetchThroughTiers(list, '/whole', {});
    await read(response.body);
    const source = response.soleSource();
    assert.equal(source?.tier, 'shield');
    assert.equal(source.client, list[0]!.client);
    assert.equal(source.replica, shield.url);
    const fromLast = await fetchThroughTiers(tiers(['shield', dead], ['origin', origin.url]), '/break', {});
    await read(fromLast.body);
    assert.equal(fromLast.soleSource()?.tier, 'origin');
  });

  it('fails the body, as the break would have, when the next tier holds another representation or nothing', async () => {
    shield.route('/other', breaking(100_000));
    origin.route('/other', ranged('"another-version"'));
    const other = await fetchThroughTiers(tiers(['shield', shield.url], ['origin', origin.url]), '/other', {});
    await assert.rejects(read(other.body));
    shield.route('/nowhere', breaking(1000));
    const nowhere = await fetchThroughTiers(tiers(['shield', shield.url], ['origin', dead]), '/nowhere', {});
    await assert.rejects(read(nowhere.body));
  });
});
