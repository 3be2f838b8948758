// Rendezvous (highest-random-weight) hashing, the one placement function of the whole repo: the
// balancer places titles on edges, an edge orders origin replicas per object and picks a key's
// owner worker, all with the same scores.
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

// Every request hashes its key against each member; the same few keys come back all the time.
const remembered = new LRUCache<string, number>({ max: 50_000 });

/** A uniform number in (0, 1) from a member id and a key; the same inputs always give the same number. */
export function hashUnit(memberId: string, key: string): number {
  const id = `${memberId}\0${key}`;
  let unit = remembered.get(id);
  if (unit === undefined) {
    const digest = createHash('sha1').update(id).digest();
    // 48 bits are plenty for ordering a handful of members; +1 / +2 keeps the value strictly inside (0, 1).
    unit = (digest.readUIntBE(0, 6) + 1) / (2 ** 48 + 2);
    remembered.set(id, unit);
  }
  return unit;
}

/** The member's score for `key`: weight / -ln(u). The highest score owns the key. */
export function rendezvousScore(memberId: string, key: string, weight = 1): number {
  return weight / -Math.log(hashUnit(memberId, key));
}

/**
 * Weighted rendezvous order of `items` for `key`. Removing an item only moves the keys it ranked
 * first; adding one takes about weight/total of the keys, and takes them from every other item evenly.
 */
export function rendezvousOrder<T extends { readonly id: string; readonly weight: number }>(items: readonly T[], key: string): T[] {
  return items
    .map((item) => ({ item, score: rendezvousScore(item.id, key, item.weight) }))
    .sort((a, b) => b.score - a.score || a.item.id.localeCompare(b.item.id))
    .map(({ item }) => item);
}

/** The id among `memberIds` that owns `key` (all weights equal). */
export function rendezvousOwner(memberIds: readonly string[], key: string): string | undefined {
  let owner: string | undefined;
  let best = -Infinity;
  for (const id of memberIds) {
    const score = rendezvousScore(id, key);
    if (score > best || (score === best && owner !== undefined && id < owner)) {
      best = score;
      owner = id;
    }
  }
  return owner;
}
