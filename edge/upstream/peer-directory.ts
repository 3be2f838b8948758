// Peers that share one cache between them: the edges of a region (--sibling-hashing) or the shields
// of every region. Each key has an owner among the live peers (rendezvous hashing, as everywhere in
// the repo); a peer that does not own a key asks the owner first, once (peer-hop.ts), with a
// timeout, and goes on to the next tier if the owner fails. Like the workers of one edge
// (sibling-workers.ts), but across machines, so the hop is signed rather than trusted by port.
import { rendezvousOwner } from '../../infra/hashing/rendezvous-hash.js';
import type { PeerHopAuth } from './peer-hop.js';
import { PEER_HOP_HEADER } from './peer-hop.js';
import { createUpstreamClient, type UpstreamClient, type UpstreamObserver } from './upstream-client.js';

export interface PeerMember {
  readonly id: string;
  readonly url: string;
}

export interface PeerChoice {
  readonly client: UpstreamClient;
  /** The signed hop header for this key. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface PeerDirectoryOptions {
  readonly selfId: string;
  readonly auth: PeerHopAuth;
  /** The owner may itself be waiting on the next tier (with failover), so allow for that. */
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly deadlineMs: number;
  readonly connectionsPerPeer: number;
  readonly observer?: UpstreamObserver;
}

export interface PeerDirectory {
  /** Replaces the list of live peers (this one may be in it). */
  update(members: readonly PeerMember[]): void;
  /** The owner's client and hop header, or undefined when this peer owns the key (or knows no other). */
  peerFor(key: string): PeerChoice | undefined;
  readonly size: number;
  close(): Promise<void>;
}

/**
 * How long a peer Consul stops listing stays an owner. A health check missed under load would
 * otherwise move its keys for a moment and cost the origins a second fetch; a peer that is really
 * gone fails its requests at once, and its client ejects it.
 */
const LINGER_MS = 15_000;

interface PeerEntry {
  readonly url: string;
  readonly client: UpstreamClient;
  listed: boolean;
  lastListed: number;
}

export function createPeerDirectory(options: PeerDirectoryOptions): PeerDirectory {
  const { selfId, auth } = options;
  const entries = new Map<string, PeerEntry>();
  // In-flight requests to a peer that left finish; its pool closes after them.
  const retire = (entry: PeerEntry): void => entry.client.setReplicas([]);
  const newClient = (id: string, url: string): UpstreamClient => {
    const client = createUpstreamClient({
      // One owner per key: a hedge would have nowhere else to go.
      hedgeDelayMs: 0,
      connectTimeoutMs: options.connectTimeoutMs,
      headersTimeoutMs: options.headersTimeoutMs,
      bodyTimeoutMs: options.bodyTimeoutMs,
      deadlineMs: options.deadlineMs,
      connectionsPerReplica: options.connectionsPerPeer,
      maxQueued: options.connectionsPerPeer * 16,
      queueWaitMs: options.connectTimeoutMs,
      ejectAfterFailures: 1,
      ejectForMs: 5000,
      trustsUpstreamFault: true,
      userAgent: `streamedge-peer/${selfId}`,
      ...(options.observer ? { observer: options.observer } : {}),
    });
    client.setReplicas([{ id, url }]);
    return client;
  };
  const owners = (now: number): string[] => {
    const ids = [selfId];
    for (const [id, entry] of entries) {
      if (entry.listed || now - entry.lastListed < LINGER_MS) ids.push(id);
      else {
        retire(entry);
        entries.delete(id);
      }
    }
    return ids;
  };
  return {
    update(members) {
      const now = Date.now();
      const next = new Map(members.filter((member) => member.id !== selfId).map((member) => [member.id, member.url]));
      for (const [id, entry] of entries) {
        const url = next.get(id);
        if (url === undefined) {
          if (entry.listed) entry.lastListed = now;
          entry.listed = false;
        } else if (url !== entry.url) {
          retire(entry);
          entries.delete(id);
        }
      }
      for (const [id, url] of next) {
        const entry = entries.get(id);
        if (entry) {
          entry.listed = true;
          entry.lastListed = now;
        } else {
          entries.set(id, { url, client: newClient(id, url), listed: true, lastListed: now });
        }
      }
      owners(now);
    },
    peerFor(key) {
      const owner = rendezvousOwner(owners(Date.now()), key);
      if (owner === undefined || owner === selfId) return undefined;
      const peer = entries.get(owner);
      // An owner that just failed is skipped (its client ejects it) until it is back.
      if (!peer || peer.client.ejected.length > 0) return undefined;
      return { client: peer.client, headers: { [PEER_HOP_HEADER]: auth.sign(selfId, key) } };
    },
    get size() {
      return owners(Date.now()).length - 1;
    },
    async close() {
      await Promise.all([...entries.values()].map(({ client }) => client.close()));
      entries.clear();
    },
  };
}
