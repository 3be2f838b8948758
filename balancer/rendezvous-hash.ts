import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

// Every request hashes its asset against each edge; the same few titles come back all the time.
const remembered = new LRUCache<string, number>({ max: 50_000 });

/** A uniform number in (0, 1) from an edge id and a key; the same inputs always give the same number. */
export function hashUnit(edgeId: string, key: string): number {
  const id = `${edgeId}\0${key}`;
  let unit = remembered.get(id);
  if (unit === undefined) {
    const digest = createHash('sha1').update(id).digest();
    // 48 bits are plenty for ordering a handful of edges; +1 / +2 keeps the value strictly inside (0, 1).
    unit = (digest.readUIntBE(0, 6) + 1) / (2 ** 48 + 2);
    remembered.set(id, unit);
  }
  return unit;
}

/**
 * Weighted rendezvous (highest-random-weight) order of `items` for `key`: each item scores
 * weight / -ln(u). Removing an item only moves the keys it ranked first; adding one takes about
 * weight/total of the keys, and takes them from every other item evenly.
 */
export function rendezvousOrder<T extends { readonly id: string; readonly weight: number }>(items: readonly T[], key: string): T[] {
  return items
    .map((item) => ({ item, score: item.weight / -Math.log(hashUnit(item.id, key)) }))
    .sort((a, b) => b.score - a.score || a.item.id.localeCompare(b.item.id))
    .map(({ item }) => item);
}
