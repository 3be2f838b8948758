/**
 * Sums the samples of one metric in Prometheus text exposition, optionally only those whose labels
 * include every given label value, e.g. requests with kind="vod-segment".
 */
export function sumMetric(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const labelText = match[2] ?? '';
    if (Object.entries(labels).every(([key, value]) => labelText.includes(`${key}="${value}"`))) total += Number(match[3]);
  }
  return total;
}

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
