// Counters read from the services' own /metrics (Prometheus text), summed over the samples that
// match, so a drill can say how many origin requests the fault cost.

export interface SampleFilter {
  readonly name: string;
  /** Samples whose labels fail this are left out (e.g. health checks). */
  readonly keep?: (labels: Readonly<Record<string, string>>) => boolean;
}

/** The sum of a metric's samples in Prometheus text exposition, filtered by labels. */
export function sumSamples(text: string, filter: SampleFilter): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(filter.name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== filter.name) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    if (filter.keep && !filter.keep(labels)) continue;
    const value = Number(match[3]);
    if (Number.isFinite(value)) total += value;
  }
  return total;
}

/** Each URL's sum, or undefined where /metrics did not answer (a killed process). */
export async function scrapeSums(urls: readonly string[], filter: SampleFilter, timeoutMs = 2000): Promise<Map<string, number | undefined>> {
  const sums = await Promise.all(
    urls.map(async (url) => {
      try {
        const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
        if (!response.ok) return [url, undefined] as const;
        return [url, sumSamples(await response.text(), filter)] as const;
      } catch {
        return [url, undefined] as const;
      }
    }),
  );
  return new Map(sums);
}

/**
 * How much a set of counters grew between two scrapes. A counter that went down restarted with
 * its process, so what it holds now is what it counted since; one unread at either end adds what
 * the other scrape saw of it since the restart, or nothing.
 */
export function counterGrowth(before: ReadonlyMap<string, number | undefined>, after: ReadonlyMap<string, number | undefined>): number {
  let growth = 0;
  for (const [url, end] of after) {
    if (end === undefined) continue;
    const start = before.get(url);
    growth += start === undefined || end < start ? end : end - start;
  }
  return growth;
}
