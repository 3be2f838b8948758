// The peer directory against in-process peers: an owner that is unreachable (a cut region's
// connection accepted and never answered, or refused) costs one fill a short, bounded time and is
// ejected at once, so its other keys skip it; a live owner waiting on its own upstream is waited for.
import assert from 'node:assert/strict';
import { text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { createPeerHeartbeat } from '../pipeline/peer-heartbeat.js';
import { deadOriginUrl, object, startTestOrigin, type TestOrigin } from '../test/test-origin.js';
import { createPeerDirectory, type PeerDirectory } from './peer-directory.js';
import { createPeerHopAuth, PEER_HOP_HEADER } from './peer-hop.js';

const ALIVE_MS = 400;
const auth = createPeerHopAuth('s'.repeat(32));
const KEYS = Array.from({ length: 40 }, (_, i) => `/vod/t/seg-${i}.ts`);

function directory(): PeerDirectory {
  return createPeerDirectory({
    selfId: 'shield-a', auth, connectTimeoutMs: 2000, headersTimeoutMs: 20_000, aliveTimeoutMs: ALIVE_MS, bodyTimeoutMs: 10_000, deadlineMs: 60_000, connectionsPerPeer: 4,
  });
}

/** Keys `peers` sends to another peer (the rest this peer owns). */
const ownedElsewhere = (peers: PeerDirectory): string[] => KEYS.filter((key) => peers.peerFor(key) !== undefined);

describe('peer directory', () => {
  let silent: TestOrigin;
  let live: TestOrigin;
  const heartbeat = createPeerHeartbeat();
  before(async () => {
    silent = await startTestOrigin();
    live = await startTestOrigin();
    for (const key of KEYS) {
      silent.route(key, () => {});
      // An owner waiting 1.5 s on its origins, showing it is at work meanwhile.
      live.route(key, (req, res) => {
        heartbeat.watch(req, res);
        setTimeout(() => object(Buffer.from(`${key} from the owner`))(req, res), 1500);
      });
    }
  });
  after(async () => {
    heartbeat.close();
    await silent.close();
    await live.close();
  });

  it('an owner that accepts connections and never answers costs one fill the alive timeout, and its other keys skip it at once', async () => {
    const peers = directory();
    try {
      peers.update([{ id: 'shield-a', url: 'http://127.0.0.1:1' }, { id: 'shield-b', url: silent.url }]);
      const theirs = ownedElsewhere(peers);
      assert.ok(theirs.length > 5 && theirs.length < KEYS.length, `${theirs.length} of ${KEYS.length} keys owned by shield-b`);
      const choice = peers.peerFor(theirs[0]!)!;
      const started = performance.now();
      await assert.rejects(choice.client.fetch(theirs[0]!, { headers: choice.headers }), /showed no sign of work/);
      const tookMs = performance.now() - started;
      assert.ok(tookMs < ALIVE_MS + 600, `given up after ${Math.round(tookMs)} ms`);
      assert.equal(silent.hits.get(theirs[0]!), 1, 'asked once');
      // Still listed in Consul (it is only cut off), but no key goes to it while it is ejected.
      assert.equal(peers.size, 1);
      assert.deepEqual(ownedElsewhere(peers), []);
    } finally {
      await peers.close();
    }
  });

  it('an owner that refuses connections is ejected on its first failure', async () => {
    const peers = directory();
    try {
      peers.update([{ id: 'shield-b', url: await deadOriginUrl() }]);
      const key = ownedElsewhere(peers)[0]!;
      const choice = peers.peerFor(key)!;
      await assert.rejects(choice.client.fetch(key, { headers: choice.headers }), /unreachable/);
      assert.deepEqual(ownedElsewhere(peers), []);
    } finally {
      await peers.close();
    }
  });

  it('an owner that sends its heartbeat is waited for however long its own upstream takes, and carries the signed hop', async () => {
    const peers = directory();
    try {
      peers.update([{ id: 'shield-b', url: live.url }]);
      const key = ownedElsewhere(peers)[0]!;
      const choice = peers.peerFor(key)!;
      assert.equal(auth.verify(choice.headers[PEER_HOP_HEADER], key), 'shield-a');
      const response = await choice.client.fetch(key, { headers: choice.headers });
      assert.equal(response.status, 200);
      assert.equal(await text(response.body), `${key} from the owner`);
      assert.equal(peers.peerFor(key)?.client, choice.client, 'still the owner');
    } finally {
      await peers.close();
    }
  });
});
