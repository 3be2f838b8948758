import type { EdgeNode } from './edge-node.js';

export type SnapshotSource = 'consul' | 'static';

/** The edge set at one moment; built once, never mutated, swapped whole. */
export interface EdgeSnapshot {
  readonly edges: readonly EdgeNode[];
  readonly byId: ReadonlyMap<string, EdgeNode>;
  readonly source: SnapshotSource;
  /** Epoch ms when this snapshot was built. */
  readonly builtAt: number;
  /** Increases with each snapshot, for logs and status. */
  readonly version: number;
}

let nextVersion = 1;

export function createSnapshot(edges: readonly EdgeNode[], source: SnapshotSource, now = Date.now()): EdgeSnapshot {
  const sorted = Object.freeze([...edges].sort((a, b) => a.id.localeCompare(b.id)));
  return Object.freeze({
    edges: sorted,
    byId: new Map(sorted.map((edge) => [edge.id, edge])),
    source,
    builtAt: now,
    version: nextVersion++,
  });
}
