// With --workers each worker counts its own requests and tracks its own sessions, so /metrics and
// /status, served by whichever worker got the connection, ask the primary for the whole cluster:
// metrics through prom-client's AggregatorRegistry, status by asking the other workers for theirs.
import type { Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { answerAsks, askPrimary, askWorkers } from '../infra/runtime/cluster-request.js';
import { mergeWorkerStatus, type StatusReport } from './status-report.js';

const CLUSTER_METRICS = 'balancer:cluster-metrics';
const OTHER_STATUS = 'balancer:other-status';
const OWN_STATUS = 'balancer:own-status';

/** A worker that has not answered within this is left out of /status (and counted as not answering). */
const WORKER_STATUS_TIMEOUT_MS = 1_000;
/** prom-client's aggregation gives up after 5 s when a worker is silent; its error should reach the asker. */
const CLUSTER_METRICS_TIMEOUT_MS = 6_000;

/** What a worker serves on /metrics and /status instead of its own share. */
export interface ClusterReports {
  metrics(): Promise<{ contentType: string; body: string }>;
  status(own: StatusReport): Promise<StatusReport>;
}

interface OtherStatus {
  asked: number;
  answers: StatusReport[];
}

/** Primary side: answers workers' asks for cluster-wide metrics and for the other workers' status. */
export function answerClusterReports(): void {
  const aggregator = new AggregatorRegistry();
  answerAsks(CLUSTER_METRICS, async () => ({ contentType: aggregator.contentType, body: await aggregator.clusterMetrics() }));
  answerAsks(OTHER_STATUS, (asker: Worker | undefined): Promise<OtherStatus> => askWorkers<StatusReport>(OWN_STATUS, WORKER_STATUS_TIMEOUT_MS, { except: asker }));
}

/** Worker side: offers this worker's metrics and status to the primary's asks. */
export function offerWorkerReports(balancer: { readonly metrics: { readonly registry: Registry }; status(): StatusReport }): void {
  // Constructing an AggregatorRegistry installs prom-client's worker-side answer to the primary.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([balancer.metrics.registry]);
  answerAsks(OWN_STATUS, () => balancer.status());
}

/** Worker side: the cluster's metrics and status, through the primary. */
export const clusterReportsFromPrimary: ClusterReports = {
  metrics: () => askPrimary(CLUSTER_METRICS, CLUSTER_METRICS_TIMEOUT_MS),
  async status(own) {
    const others = await askPrimary<OtherStatus>(OTHER_STATUS, 2 * WORKER_STATUS_TIMEOUT_MS);
    return mergeWorkerStatus(own, others.answers, 1 + others.asked);
  },
};
