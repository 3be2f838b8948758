/**
 * hls.js hands over the transport object with each load (`networkDetails`): the XMLHttpRequest for
 * its default loader, the Response for the fetch loader. Cross-origin headers are only readable
 * when the edge lists them in Access-Control-Expose-Headers, which it does for these.
 */
export function readResponseHeader(networkDetails: unknown, name: string): string | null {
  if (networkDetails instanceof XMLHttpRequest) return networkDetails.getResponseHeader(name);
  if (networkDetails instanceof Response) return networkDetails.headers.get(name);
  return null;
}

/** The URL the response finally came from, after any redirect. */
export function responseUrl(networkDetails: unknown): string | null {
  if (networkDetails instanceof XMLHttpRequest) return networkDetails.responseURL || null;
  if (networkDetails instanceof Response) return networkDetails.url || null;
  return null;
}
