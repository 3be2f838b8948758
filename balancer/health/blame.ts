// Who a failed answer from an edge is blamed on. Only the edge's own failings (a refused or reset
// connection, a failed /healthz, a 5xx it generated for reasons of its own) count against it; a
// 5xx it marks as caused upstream (infra/http/upstream-fault.ts), or a slow answer while its
// /healthz passes, is its origin's doing and never ejects it.
import { upstreamFaultOf } from '../../infra/http/upstream-fault.js';

export type BlamedParty = 'edge' | 'upstream';

/** Counts a failure against the party it is blamed on (metrics); `reason` is a short name. */
export type BlameRecorder = (party: BlamedParty, reason: string) => void;

/**
 * Who an edge's final answer blames: undefined for a success or a deliberate refusal (a 5xx with
 * Retry-After: the edge is alive and shedding load), `upstream` when the edge names a fault
 * upstream of it, else `edge` (a 5xx of its own). `readHeaders` is called only for a 5xx: the
 * proxy's fast path makes its field record only when someone reads it.
 */
export function blameForStatus(status: number, readHeaders: () => Readonly<Record<string, string | string[] | undefined>>): { party: BlamedParty; reason: string } | undefined {
  if (status < 500) return undefined;
  const headers = readHeaders();
  const fault = upstreamFaultOf(headers);
  if (fault !== undefined) return { party: 'upstream', reason: fault.slice(0, 40) };
  if (headers['retry-after'] !== undefined) return undefined;
  return { party: 'edge', reason: `status-${status}` };
}
