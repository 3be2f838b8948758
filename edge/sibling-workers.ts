// Cluster mode: every worker has its own cache, so without help a cold object would be fetched
// from the origin once per worker. Instead each key has an owner worker (rendezvous hashing over
// the live workers); the others fill their miss from the owner, over a private loopback port, and
// the owner's coalescing turns the whole herd into one origin request.
import type { UpstreamClient, UpstreamObserver } from './upstream/upstream-client.js';
import { rendezvousOwner } from '../infra/hashing/rendezvous-hash.js';
import { createUpstreamClient } from './upstream/upstream-client.js';
import { SIBLING_HEADER } from './pipeline/edge-services.js';

export interface SiblingAddress {
  readonly id: string;
  readonly url: string;
}

export interface SiblingDirectory {
  /** Replaces the list of live workers (this one included). */
  update(siblings: readonly SiblingAddress[]): void;
  /** The owner's client, or undefined when this worker owns the key or knows no siblings. */
  siblingFor(key: string): UpstreamClient | undefined;
  close(): Promise<void>;
}

export function createSiblingDirectory(selfId: string, originTimeoutMs: number, observer?: UpstreamObserver): SiblingDirectory {
  let ids: string[] = [selfId];
  const clients = new Map<string, { url: string; client: UpstreamClient }>();
  return {
    update(siblings) {
      const next = new Map(siblings.filter((sibling) => sibling.id !== selfId).map((sibling) => [sibling.id, sibling.url]));
      for (const [id, known] of clients) {
        if (next.get(id) !== known.url) {
          void known.client.close();
          clients.delete(id);
        }
      }
      for (const [id, url] of next) {
        if (clients.has(id)) continue;
        const client = createUpstreamClient({
          hedgeDelayMs: 0,
          connectTimeoutMs: 500,
          // The owner may itself be waiting on the origin (with failover), so allow for that.
          headersTimeoutMs: originTimeoutMs * 3,
          bodyTimeoutMs: originTimeoutMs * 2,
          connectionsPerReplica: 32,
          ejectAfterFailures: 1,
          ejectForMs: 5000,
          trustsUpstreamFault: true,
          userAgent: `streamedge-sibling/${selfId}`,
          extraHeaders: { [SIBLING_HEADER]: selfId },
          ...(observer ? { observer } : {}),
        });
        client.setReplicas([{ id: `worker-${id}`, url }]);
        clients.set(id, { url, client });
      }
      ids = [selfId, ...clients.keys()];
    },
    siblingFor(key) {
      const owner = rendezvousOwner(ids, key);
      return owner === undefined || owner === selfId ? undefined : clients.get(owner)?.client;
    },
    async close() {
      await Promise.all([...clients.values()].map(({ client }) => client.close()));
      clients.clear();
    },
  };
}
