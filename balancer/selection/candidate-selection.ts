import type { EdgeNode } from '../discovery/edge-node.js';
import { haversineKm } from '../../infra/geo/geo-distance.js';
import type { Place } from '../location/location-table.js';
import { rendezvousOrder } from '../../infra/hashing/rendezvous-hash.js';

// Selection is pure: the same edges, viewer place, asset key, loads and placement give the same answer.
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
  readonly placement?: Placement;
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
 * Where this viewer's session stands before it is placed: the edge it is on already (counted in
 * `loads`; absent for a new viewer or one that must leave its edge) and the edges that recently
 * took viewers of the asset, which likely hold it in cache.
 */
export interface Placement {
  readonly current?: string;
  readonly holders?: ReadonlySet<string>;
}

/** Sessions in `group` once this viewer is placed (a `current` member is counted already), and its weight. */
interface GroupTotals {
  readonly sessions: number;
  readonly weight: number;
}

function groupTotals(group: readonly EdgeNode[], loads: ReadonlyMap<string, number>, current: string | undefined): GroupTotals {
  const counted = group.reduce((sum, member) => sum + (loads.get(member.id) ?? 0), 0);
  return {
    sessions: counted + (group.some((member) => member.id === current) ? 0 : 1),
    weight: group.reduce((sum, member) => sum + member.weight, 0),
  };
}

function capacityWithin(edge: EdgeNode, totals: GroupTotals, factor: number): number {
  return Math.ceil((factor * totals.sessions * edge.weight) / totals.weight);
}

/**
 * The most sessions an edge of `group` may hold once this viewer is placed:
 * ceil(factor × sessions × weight / total weight), where sessions includes this viewer.
 * With factor ≥ 1 some edge always has room, because the capacities add up to at least the sessions.
 */
export function capacityOf(edge: EdgeNode, group: readonly EdgeNode[], loads: ReadonlyMap<string, number>, factor: number, current?: string): number {
  return capacityWithin(edge, groupTotals(group, loads, current), factor);
}

/**
 * Consistent hashing with bounded loads that spills to warm caches: walk the key's rendezvous
 * order; nobody goes above ceil(c × average), and below that bound the choice is the one that
 * copies the fewest titles into another cache:
 * 1. the viewer's current edge while it is within its fair share (c = 1);
 * 2. above its fair share, it stays unless another edge that holds the title is within its fair share;
 * 3. a new viewer goes to the title's hashed edge while within its fair share, else to an edge
 *    holding the title within its fair share;
 * 4. failing that, an edge holding the title within the bound, then any edge within the bound.
 * So a popular title, once spilled, sheds load onto its second copy, and the hashed edge keeps room
 * for rare titles that exist nowhere else. The chosen edge comes first, the rest in hash order.
 */
export function boundedLoadOrder(
  group: readonly EdgeNode[],
  key: string,
  loads: ReadonlyMap<string, number>,
  balanceFactor: number,
  placement: Placement = {},
): EdgeNode[] {
  const order = rendezvousOrder(group, key);
  // Several capacity checks per edge on every request: sum the group once, not per check.
  const totals = groupTotals(group, loads, placement.current);
  const fits = (edge: EdgeNode, factor: number): boolean =>
    (loads.get(edge.id) ?? 0) + (edge.id === placement.current ? 0 : 1) <= capacityWithin(edge, totals, factor);
  const holds = (edge: EdgeNode): boolean => edge.id === placement.current || (placement.holders?.has(edge.id) ?? false);
  const current = order.find((edge) => edge.id === placement.current);
  const warmAlternative = order.some((edge) => edge !== current && holds(edge) && fits(edge, 1));
  const chosen =
    (current && (fits(current, 1) || (fits(current, balanceFactor) && !warmAlternative)) ? current : undefined) ??
    order.find((edge) => fits(edge, 1) && (edge === order[0] || holds(edge))) ??
    order.find((edge) => fits(edge, balanceFactor) && holds(edge)) ??
    order.find((edge) => fits(edge, balanceFactor)) ??
    order[0];
  if (!chosen || chosen === order[0]) return order;
  return [chosen, ...order.filter((edge) => edge !== chosen)];
}

/** The ordered candidate list: best first, then the rest of the nearest group, then farther groups. */
export function selectCandidates(input: SelectionInput): EdgeNode[] {
  if (!(input.balanceFactor >= 1)) throw new TypeError(`balanceFactor must be ≥ 1, got ${input.balanceFactor}`);
  const [nearest, ...farther] = groupByDistance(input.edges, input.viewer);
  if (!nearest) return [];
  return [
    ...boundedLoadOrder(nearest, input.assetKey, input.loads, input.balanceFactor, input.placement),
    ...farther.flatMap((group) => rendezvousOrder(group, input.assetKey)),
  ];
}
