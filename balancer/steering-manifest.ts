import { EDGE_ID } from './edge-node.js';

/** The HLS content steering manifest (draft-pantos-hls-rfc8216bis §7.2). */
export interface SteeringManifest {
  readonly VERSION: 1;
  readonly TTL: number;
  readonly 'RELOAD-URI': string;
  readonly 'PATHWAY-PRIORITY': readonly string[];
}

export function buildSteeringManifest(pathwayPriority: readonly string[], ttlSeconds: number, reloadUri: string): SteeringManifest {
  return { VERSION: 1, TTL: ttlSeconds, 'RELOAD-URI': reloadUri, 'PATHWAY-PRIORITY': [...pathwayPriority] };
}

/** What the player tells us when it reloads the manifest (`_HLS_pathway`, `_HLS_throughput`). */
export interface ViewerReport {
  /** The pathway the player is using now. */
  readonly pathway: string | undefined;
  /** Its throughput estimate in bits per second. */
  readonly throughput: number | undefined;
}

export class SteeringQueryError extends Error {
  readonly status = 400;
}

export function parseViewerReport(params: URLSearchParams): ViewerReport {
  const pathways = params.getAll('_HLS_pathway');
  const throughputs = params.getAll('_HLS_throughput');
  if (pathways.length > 1 || throughputs.length > 1) throw new SteeringQueryError('_HLS_pathway and _HLS_throughput may appear once');
  const pathway = pathways[0];
  // hls.js reports "." before it knows any pathway.
  if (pathway !== undefined && pathway !== '.' && !EDGE_ID.test(pathway)) throw new SteeringQueryError('malformed _HLS_pathway');
  const throughputText = throughputs[0];
  if (throughputText !== undefined && !/^\d{1,13}$/.test(throughputText)) throw new SteeringQueryError('malformed _HLS_throughput');
  return {
    pathway: pathway === undefined || pathway === '.' ? undefined : pathway,
    throughput: throughputText === undefined ? undefined : Number(throughputText),
  };
}

export type DemotionReason = 'viewer-moved-away' | 'slow';

/**
 * Which pathways to demote for this viewer, given what we last told it (`preferred`) and what it
 * reports. A player on another pathway than the one we put first has penalized ours after errors;
 * a player reporting less throughput than `slowBelowBps` on its pathway finds that edge slow.
 */
export function demotionsFromReport(
  preferred: string | undefined,
  report: ViewerReport,
  slowBelowBps: number,
): { edgeId: string; reason: DemotionReason }[] {
  const demotions: { edgeId: string; reason: DemotionReason }[] = [];
  if (report.pathway === undefined) return demotions;
  if (preferred !== undefined && report.pathway !== preferred) demotions.push({ edgeId: preferred, reason: 'viewer-moved-away' });
  if (report.throughput !== undefined && report.throughput > 0 && report.throughput < slowBelowBps) {
    demotions.push({ edgeId: report.pathway, reason: 'slow' });
  }
  return demotions;
}
