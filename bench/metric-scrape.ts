// Scrapes one counter from a service's /metrics, for the benchmarks' origin-request counts.
import { sumMetric } from '../infra/prometheus/prometheus-text.js';

export async function scrapeMetric(baseUrl: string, name: string, labels?: Readonly<Record<string, string>>): Promise<number> {
  const response = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`${baseUrl}/metrics answered ${response.status}`);
  return sumMetric(await response.text(), name, labels);
}

/** Requests the origin answered for segments, from its own counter. */
export function originSegmentRequests(originUrl: string): Promise<number> {
  return scrapeMetric(originUrl, 'streamedge_origin_requests_total', { kind: 'vod-segment' });
}

export function originSegmentBytes(originUrl: string): Promise<number> {
  return scrapeMetric(originUrl, 'streamedge_origin_response_bytes_total', { kind: 'vod-segment' });
}
