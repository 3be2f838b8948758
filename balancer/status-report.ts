import type { DiscoveryStatus } from './discovery/edge-discovery.js';
import type { EdgeNode } from './discovery/edge-node.js';
import type { EdgeSnapshot } from './discovery/edge-snapshot.js';
import type { FrontName } from './fronts/front.js';
import type { EdgeHealth } from './health/passive-health.js';
import type { ShieldStatus } from './discovery/shield-watch.js';

export interface EdgeStatus extends EdgeNode {
  readonly health: EdgeHealth['state'];
  readonly reason?: string;
  readonly ejectedAt?: string;
  readonly retryAt?: string;
  readonly ejections: number;
  readonly activeSessions: number;
}

export interface StatusReport {
  readonly mode: FrontName;
  readonly balanceFactor: number;
  readonly discovery: DiscoveryStatus & { readonly lastSuccess: string | undefined };
  readonly snapshot: {
    readonly version: number;
    readonly builtAt: string;
    /** Seconds since discovery last confirmed the edge list. */
    readonly ageSeconds: number | null;
    /** True while Consul cannot be reached and the balancer serves from its last snapshot. */
    readonly stale: boolean;
  };
  readonly activeSessions: number;
  readonly edges: readonly EdgeStatus[];
  /** The tier behind the edges: passing shields (never chosen for viewers), with Consul discovery. */
  readonly shields: readonly ShieldStatus[];
  /** With --workers: how many workers there are and how many answered in time (their sessions are counted). */
  readonly workers?: { readonly count: number; readonly answered: number };
}

export function buildStatusReport(input: {
  mode: FrontName;
  balanceFactor: number;
  snapshot: EdgeSnapshot;
  discovery: DiscoveryStatus;
  health: (edgeId: string) => EdgeHealth;
  loads: ReadonlyMap<string, number>;
  activeSessions: number;
  shields?: readonly ShieldStatus[];
  now?: number;
}): StatusReport {
  const now = input.now ?? Date.now();
  const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
  return {
    mode: input.mode,
    balanceFactor: input.balanceFactor,
    discovery: { ...input.discovery, lastSuccess: iso(input.discovery.lastSuccessAt) },
    snapshot: {
      version: input.snapshot.version,
      builtAt: iso(input.snapshot.builtAt)!,
      ageSeconds: input.discovery.lastSuccessAt === undefined ? null : Math.max(0, (now - input.discovery.lastSuccessAt) / 1000),
      stale: !input.discovery.reachable,
    },
    activeSessions: input.activeSessions,
    shields: input.shields ?? [],
    edges: input.snapshot.edges.map((edge) => {
      const health = input.health(edge.id);
      return {
        id: edge.id,
        url: edge.url,
        region: edge.region,
        lat: edge.lat,
        lon: edge.lon,
        weight: edge.weight,
        health: health.state,
        ...(health.reason ? { reason: health.reason } : {}),
        ...(health.ejectedAt ? { ejectedAt: iso(health.ejectedAt) } : {}),
        ...(health.retryAt ? { retryAt: iso(health.retryAt) } : {}),
        ejections: health.ejections,
        activeSessions: input.loads.get(edge.id) ?? 0,
      };
    }),
  };
}

/**
 * With --workers each worker tracks its own sessions: the cluster's are the sum over the workers
 * that answered. Everything else (health, discovery, snapshot) is as this worker sees it.
 */
export function mergeWorkerStatus(own: StatusReport, others: readonly StatusReport[], workerCount: number): StatusReport {
  const othersByEdge = new Map<string, number>();
  for (const report of others) {
    for (const edge of report.edges) othersByEdge.set(edge.id, (othersByEdge.get(edge.id) ?? 0) + edge.activeSessions);
  }
  return {
    ...own,
    activeSessions: others.reduce((sum, report) => sum + report.activeSessions, own.activeSessions),
    edges: own.edges.map((edge) => ({ ...edge, activeSessions: edge.activeSessions + (othersByEdge.get(edge.id) ?? 0) })),
    workers: { count: workerCount, answered: 1 + others.length },
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** A small self-refreshing page for operators; every value is escaped (edge data comes from Consul). */
export function renderStatusHtml(report: StatusReport): string {
  const cell = (value: unknown): string => `<td>${escapeHtml(value === undefined ? '' : String(value))}</td>`;
  const rows = report.edges
    .map(
      (edge) =>
        `<tr class="${escapeHtml(edge.health)}">${[edge.id, edge.region, edge.url, edge.health, edge.reason, edge.activeSessions, edge.ejections, edge.weight].map(cell).join('')}</tr>`,
    )
    .join('\n');
  const workers = report.workers
    ? ` · ${report.workers.answered < report.workers.count ? '<span class="stale">' : '<span>'}${report.workers.answered} of ${report.workers.count} workers answered</span>`
    : '';
  const age = report.snapshot.ageSeconds === null ? 'never confirmed' : `${report.snapshot.ageSeconds.toFixed(1)} s`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>streamedge balancer</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
tr.ejected,tr.probing{background:#fdd}.stale{color:#b00;font-weight:bold}</style></head>
<body><h1>streamedge balancer</h1>
<p>Mode <b>${escapeHtml(report.mode)}</b> · balance factor ${report.balanceFactor} · ${report.activeSessions} active sessions${workers}</p>
<p>Discovery: ${escapeHtml(report.discovery.source)} · ${report.discovery.reachable ? 'reachable' : '<span class="stale">unreachable — serving the last snapshot</span>'}
 · snapshot v${report.snapshot.version}, confirmed ${escapeHtml(age)} ago${report.discovery.lastError ? ` · last error: ${escapeHtml(report.discovery.lastError)}` : ''}</p>
<table><thead><tr><th>edge</th><th>region</th><th>url</th><th>health</th><th>reason</th><th>sessions</th><th>ejections</th><th>weight</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="8">no edges</td></tr>'}
</tbody></table>
<h2>shields (edges fill misses from them; never sent viewers)</h2>
<table><thead><tr><th>shield</th><th>region</th><th>url</th></tr></thead>
<tbody>
${report.shields.map((shield) => `<tr>${[shield.id, shield.region, shield.url].map(cell).join('')}</tr>`).join('\n') || '<tr><td colspan="3">no shields</td></tr>'}
</tbody></table>
<p><a href="/status">JSON</a> · <a href="/metrics">metrics</a></p>
</body></html>
`;
}
