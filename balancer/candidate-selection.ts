import type { EdgeNode } from './edge-node.js';
import { haversineKm } from './geo-distance.js';
import type { Place } from './location-table.js';
import { rendezvousOrder } from './rendezvous-hash.js';

// Selection is pure: the same edges, viewer place, asset key and loads give the same answer.
// "Nearest" orders groups of edges; "bounded load" decides who goes first inside the nearest group.

export interface SelectionInput {
  /** Edges that may take viewers now (in the snapshot, not ejected). */
  readonly edges: readonly EdgeNode[];
  readonly viewer: Place | undefined;
  /** What is hashed: the asset id, so one title's objects stay on one edge. */
  readonly assetKey: string;
  /** Active sessions per edge id. */
  readonly loads: ReadonlyMap<string, number>;
  /** c in "no edge above ceil(c × average)"; ≥ 1. */
  readonly balanceFactor: number;
}

/**
 * Edges grouped by region, nearest first: the viewer's own region, then the others by the
 * haversine distance to their closest edge. Without a known place every edge is one group.
 */
export function groupByDistance(edges: readonly EdgeNode[], viewer: Place | undefined): EdgeNode[][] {
  if (!viewer) return edges.length ? [[...edges]] : [];
  const groups = new Map<string, EdgeNode[]>();
  for (const edge of edges) groups.set(edge.region, [...(groups.get(edge.region) ?? []), edge]);
  const distance = (group: readonly EdgeNode[]): number =>
    group[0]!.region === viewer.region ? -1 : Math.min(...group.map((edge) => haversineKm(viewer, edge)));
  return [...groups.values()]
    .map((group) => ({ group, km: distance(group) }))
    .sort((a, b) => a.km - b.km || a.group[0]!.region.localeCompare(b.group[0]!.region))
    .map(({ group }) => group);
}

/**
 * The most sessions an edge of `group` may hold once one more session arrives:
 * ceil(c × (sessions + 1) × weight / total weight). Some edge is always below its capacity,
 * because the capacities add up to at least c × (sessions + 1) > sessions.
 */
export function capacityOf(edge: EdgeNode, group: readonly EdgeNode[], loads: ReadonlyMap<string, number>, balanceFactor: number): number {
  const sessions = group.reduce((sum, member) => sum + (loads.get(member.id) ?? 0), 0);
  const totalWeight = group.reduce((sum, member) => sum + member.weight, 0);
  return Math.ceil((balanceFactor * (sessions + 1) * edge.weight) / totalWeight);
}

/**
 * Whether `edge` holds more than its share of the sessions already counted:
 * more than ceil(c × sessions × weight / total weight). A viewer already there counts in `loads`,
 * so this is the bound without the +1 a new session adds.
 */
export function isOverloaded(edge: EdgeNode, group: readonly EdgeNode[], loads: ReadonlyMap<string, number>, balanceFactor: number): boolean {
  const sessions = group.reduce((sum, member) => sum + (loads.get(member.id) ?? 0), 0);
  const totalWeight = group.reduce((sum, member) => sum + member.weight, 0);
  return (loads.get(edge.id) ?? 0) > Math.ceil((balanceFactor * sessions * edge.weight) / totalWeight);
}

/**
 * Consistent hashing with bounded loads: walk the key's rendezvous order and put first the first
 * edge still below capacity; the others follow in hash order as fallbacks.
 */
export function boundedLoadOrder(
  group: readonly EdgeNode[],
  key: string,
  loads: ReadonlyMap<string, number>,
  balanceFactor: number,
): EdgeNode[] {
  const order = rendezvousOrder(group, key);
  const chosen = order.findIndex((edge) => (loads.get(edge.id) ?? 0) < capacityOf(edge, group, loads, balanceFactor));
  if (chosen <= 0) return order;
  return [order[chosen]!, ...order.slice(0, chosen), ...order.slice(chosen + 1)];
}

/** The ordered candidate list: best first, then the rest of the nearest group, then farther groups. */
export function selectCandidates(input: SelectionInput): EdgeNode[] {
  if (!(input.balanceFactor >= 1)) throw new TypeError(`balanceFactor must be ≥ 1, got ${input.balanceFactor}`);
  const [nearest, ...farther] = groupByDistance(input.edges, input.viewer);
  if (!nearest) return [];
  return [
    ...boundedLoadOrder(nearest, input.assetKey, input.loads, input.balanceFactor),
    ...farther.flatMap((group) => rendezvousOrder(group, input.assetKey)),
  ];
}
