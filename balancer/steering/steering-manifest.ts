import { EDGE_ID } from '../discovery/edge-node.js';

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

/**
 * The report with its pathway kept only when it is one the balancer issued to this viewer (its
 * playlist's pathways, or an edge it knows): a made-up id is heard as no pathway at all, so it can
 * neither demote anything nor be remembered.
 */
export function issuedPathwayReport(report: ViewerReport, issued: (pathway: string) => boolean): ViewerReport {
  if (report.pathway === undefined || issued(report.pathway)) return report;
  return { pathway: undefined, throughput: undefined };
}

export type DemotionReason = 'viewer-moved-away' | 'slow';

/** A throughput this viewer reported while on a pathway, and when. */
export interface PathwayThroughput {
  readonly bps: number;
  readonly at: number;
}

export interface SlownessPolicy {
  /** Only a report below this (bits/s) can make a pathway slow; 0 = never demote for slowness. */
  readonly slowBelowBps: number;
  /** …and only when the viewer got more than 1 / ratio times as much on another pathway. */
  readonly slowRatio: number;
  /** How long a report on another pathway still counts as what the viewer gets there. */
  readonly reportMemoryMs: number;
}

export interface ViewerReportContext {
  /** The pathway we put first in this viewer's last priority list. */
  readonly advertised: string | undefined;
  readonly report: ViewerReport;
  /** This viewer's earlier reports, latest per pathway. */
  readonly history: ReadonlyMap<string, PathwayThroughput>;
  readonly now: number;
}

/**
 * Which pathways to demote for this viewer. A player on another pathway than the one we put first
 * has penalized ours after errors. Slowness is relative: a low `_HLS_throughput` is as often the
 * viewer's own link or CPU as the edge, so a pathway is slow only when this viewer recently got
 * clearly more on another one; with nothing better known, moving it would only make it flip.
 */
export function demotionsFromReport(context: ViewerReportContext, policy: SlownessPolicy): { edgeId: string; reason: DemotionReason }[] {
  const { advertised, report, history, now } = context;
  const demotions: { edgeId: string; reason: DemotionReason }[] = [];
  if (report.pathway === undefined) return demotions;
  if (advertised !== undefined && report.pathway !== advertised) demotions.push({ edgeId: advertised, reason: 'viewer-moved-away' });
  const throughput = report.throughput;
  if (throughput === undefined || throughput <= 0 || throughput >= policy.slowBelowBps) return demotions;
  const betterElsewhere = [...history].some(
    ([pathway, seen]) => pathway !== report.pathway && now - seen.at <= policy.reportMemoryMs && throughput < policy.slowRatio * seen.bps,
  );
  if (betterElsewhere) demotions.push({ edgeId: report.pathway, reason: 'slow' });
  return demotions;
}
