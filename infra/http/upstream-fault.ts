// The edge's word to whoever fetches through it (the balancer) that a 5xx it sends was caused
// upstream of it (an origin failed, timed out or answered 5xx), so the edge itself is not to blame.
// Edge and balancer share only HTTP; the field's name is kept here, on the floor below both.

/** Response field on an edge's 5xx caused upstream; its value names the failure (`timeout`, `connect`, `http-5xx`, …). */
export const UPSTREAM_FAULT_HEADER = 'streamedge-upstream-fault';

/** The upstream failure an edge's response names, or undefined when it names none. */
export function upstreamFaultOf(headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined {
  const value = headers[UPSTREAM_FAULT_HEADER];
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text === '' ? undefined : text;
}

/** The field (as a flat name/value list) an edge adds when it passes on, or replays, an origin's own 5xx. */
export function originStatusFault(originStatus: number): string[] {
  return originStatus >= 500 ? [UPSTREAM_FAULT_HEADER, 'http-5xx'] : [];
}
