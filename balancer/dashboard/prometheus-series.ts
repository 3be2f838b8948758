// The dashboard's data when the balancer is given --prometheus: each chart is one recording rule
// (infra/prometheus/rules/streamedge-recording.yml) read over a time window with /api/v1/query_range,
// per edge id. The page cannot ask Prometheus itself (its CSP allows only the balancer), so the
// balancer asks for it.
import type { EdgeStatus } from '../status-report.js';
import { DASHBOARD_RULES, type ChartName, type PrometheusSeries, type SeriesPoint } from '../../infra/prometheus/dashboard-samples.js';

interface MatrixResult {
  readonly metric: Readonly<Record<string, string>>;
  readonly values: readonly (readonly [number, string])[];
}

/** The per-id series of a query_range answer; anything else is an Error naming what was wrong. */
export function seriesByEdge(body: unknown): Record<string, SeriesPoint[]> {
  const answer = body as { status?: unknown; error?: unknown; data?: { resultType?: unknown; result?: unknown } };
  if (answer?.status !== 'success') throw new Error(`Prometheus: ${typeof answer?.error === 'string' ? answer.error : 'not a success answer'}`);
  if (answer.data?.resultType !== 'matrix' || !Array.isArray(answer.data.result)) throw new Error('Prometheus: expected a matrix result');
  const byEdge: Record<string, SeriesPoint[]> = {};
  for (const item of answer.data.result as MatrixResult[]) {
    const id = item.metric?.id;
    if (typeof id !== 'string' || !Array.isArray(item.values)) continue;
    byEdge[id] = item.values.map(([time, value]) => {
      const number = Number(value);
      return [Number(time), Number.isFinite(number) ? number : null];
    });
  }
  return byEdge;
}

export interface PrometheusSource {
  readonly url: string;
  /** The charts' series; the caller adds the scraped counters of the tier view. */
  series(edges: readonly EdgeStatus[], windowSeconds: number, now?: number): Promise<Omit<PrometheusSeries, 'scraped'>>;
}

export function createPrometheusSource(options: { readonly url: string; readonly timeoutMs: number }): PrometheusSource {
  let base: URL;
  try {
    base = new URL(options.url);
  } catch {
    throw new TypeError(`url must be an http(s) URL, got "${options.url}"`);
  }
  if (!/^https?:$/.test(base.protocol) || base.search || base.hash) throw new TypeError(`url must be an http(s) URL without query or fragment, got "${options.url}"`);
  const root = base.href.endsWith('/') ? base.href : `${base.href}/`;

  const query = async (expr: string, start: number, end: number, step: number): Promise<Record<string, SeriesPoint[]>> => {
    const url = new URL('api/v1/query_range', root);
    url.search = new URLSearchParams({ query: expr, start: String(start), end: String(end), step: String(step) }).toString();
    const response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs) });
    const body: unknown = await response.json().catch(() => undefined);
    if (body === undefined) throw new Error(`Prometheus answered ${response.status} without JSON`);
    return seriesByEdge(body);
  };

  return {
    url: root,
    async series(edges, windowSeconds, now = Date.now()) {
      const end = Math.floor(now / 1000);
      const step = Math.max(1, Math.round(windowSeconds / 240));
      const start = end - windowSeconds;
      const series = {} as Record<ChartName, Record<string, SeriesPoint[]>>;
      const errors: Partial<Record<ChartName, string>> = {};
      await Promise.all(
        (Object.entries(DASHBOARD_RULES) as [ChartName, string][]).map(async ([chart, rule]) => {
          try {
            series[chart] = await query(rule, start, end, step);
          } catch (error) {
            series[chart] = {};
            errors[chart] = (error as Error).name === 'TimeoutError' ? `timed out after ${options.timeoutMs} ms` : (error as Error).message;
          }
        }),
      );
      return {
        source: 'prometheus',
        at: now,
        edges: edges.map(({ id, region, lat, lon, url, health, activeSessions }) => ({ id, region, lat, lon, url, health, activeSessions })),
        range: { start, end, step },
        series,
        errors,
      };
    },
  };
}

/** Start-up check of --prometheus: it must answer its build-info endpoint as a Prometheus does. */
export async function checkPrometheus(url: string, timeoutMs: number): Promise<string> {
  const response = await fetch(new URL('api/v1/status/buildinfo', url.endsWith('/') ? url : `${url}/`), { signal: AbortSignal.timeout(timeoutMs) });
  const body = (await response.json().catch(() => undefined)) as { status?: string; data?: { version?: string } } | undefined;
  if (!response.ok || body?.status !== 'success') throw new Error(`${url} did not answer /api/v1/status/buildinfo as Prometheus does (HTTP ${response.status})`);
  return body.data?.version ?? 'unknown';
}
