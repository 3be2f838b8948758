// GET /dashboard/samples: what the dashboard page plots, from Prometheus's recording rules when the
// balancer has --prometheus, else from the edges' own /metrics; the tier view always from the edges'
// and shields' /metrics. Edge health, place and sessions, and the passing shields, are always this
// balancer's own view (its /status report).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError, sendJson } from '../http-responses.js';
import type { StatusReport } from '../status-report.js';
import type { EdgeSampler } from './edge-samples.js';
import type { PrometheusSource } from './prometheus-series.js';

export const DASHBOARD_SAMPLES_PATH = '/dashboard/samples';
const WINDOW_SECONDS = { min: 60, max: 86_400, default: 900 };

export type DashboardDataOutcome = 'served' | 'bad-request';

export interface DashboardData {
  readonly source: 'prometheus' | 'metrics';
  answer(req: IncomingMessage, res: ServerResponse, report: StatusReport): Promise<DashboardDataOutcome>;
}

export function createDashboardData(options: { readonly sampler: EdgeSampler; readonly prometheus?: PrometheusSource }): DashboardData {
  const { sampler, prometheus } = options;
  return {
    source: prometheus ? 'prometheus' : 'metrics',
    async answer(req, res, report) {
      if (!prometheus) {
        sendJson(res, 200, await sampler(report.edges, report.shields));
        return 'served';
      }
      const asked = new URL(req.url ?? '/', 'http://balancer').searchParams.get('window');
      const window = asked === null ? WINDOW_SECONDS.default : Number(asked);
      if (!Number.isInteger(window) || window < WINDOW_SECONDS.min || window > WINDOW_SECONDS.max) {
        sendError(res, 400, `window must be whole seconds from ${WINDOW_SECONDS.min} to ${WINDOW_SECONDS.max}`);
        return 'bad-request';
      }
      const [series, scraped] = await Promise.all([prometheus.series(report.edges, window), sampler(report.edges, report.shields)]);
      sendJson(res, 200, { ...series, scraped });
      return 'served';
    },
  };
}
