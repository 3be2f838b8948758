// node:cluster plumbing for the edge. Workers share the listening socket; each has its own cache.
// The primary owns Consul registration and drain, aggregates /metrics with prom-client's
// AggregatorRegistry (counters and gauges summed over workers), and fans purges out to every worker.
// Metrics and purges are asks (cluster-request); sibling lists and drain commands are one-way messages.
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { answerAsks, askPrimary, askWorkers } from '../infra/runtime/cluster-request.js';
import { sendToWorker } from '../infra/runtime/worker-messages.js';
import type { PurgeRequest } from './pipeline/edge-services.js';
import type { SiblingAddress } from './sibling-workers.js';

const CLUSTER_METRICS = 'edge:cluster-metrics';
const PURGE_EVERYWHERE = 'edge:purge-everywhere';
const PURGE_LOCAL = 'edge:purge-local';

/** How long the primary waits for each worker's purge count (a silent worker counts 0). */
const WORKER_ASK_TIMEOUT_MS = 10_000;
/** How long a worker waits for the primary: longer, so a silent worker still yields the others' counts. */
const PRIMARY_ASK_TIMEOUT_MS = 2 * WORKER_ASK_TIMEOUT_MS;

type BridgeMessage =
  | { type: 'streamedge:sibling'; sibling: SiblingAddress }
  | { type: 'streamedge:siblings'; siblings: SiblingAddress[] }
  | { type: 'streamedge:draining' }
  | { type: 'streamedge:shutdown' };

function isBridgeMessage(value: unknown): value is BridgeMessage {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string' && (value as { type: string }).type.startsWith('streamedge:');
}

export interface WorkerBridgeHandlers {
  purgeLocal(request: PurgeRequest): number;
  onDraining(): void;
  onShutdown(): void;
  onSiblings(siblings: readonly SiblingAddress[]): void;
}

/** Worker side: hooks for createEdge (purge everywhere, cluster metrics) and primary commands. */
export function connectWorker(handlers: WorkerBridgeHandlers): {
  purgeAll: (request: PurgeRequest) => Promise<number>;
  metricsText: () => Promise<{ contentType: string; body: string }>;
  announceSibling: (sibling: SiblingAddress) => void;
} {
  const send = (message: BridgeMessage): void => void process.send?.(message);
  answerAsks<PurgeRequest>(PURGE_LOCAL, (_primary, request) => handlers.purgeLocal(request));
  process.on('message', (message: unknown) => {
    if (!isBridgeMessage(message)) return;
    if (message.type === 'streamedge:draining') handlers.onDraining();
    else if (message.type === 'streamedge:shutdown') handlers.onShutdown();
    else if (message.type === 'streamedge:siblings') handlers.onSiblings(message.siblings);
  });
  return {
    announceSibling: (sibling) => send({ type: 'streamedge:sibling', sibling }),
    purgeAll: (request) => askPrimary<number>(PURGE_EVERYWHERE, PRIMARY_ASK_TIMEOUT_MS, request),
    metricsText: () => askPrimary(CLUSTER_METRICS, PRIMARY_ASK_TIMEOUT_MS),
  };
}

/** Primary side: answers workers' metrics and purge asks; broadcasts drain commands. */
export function servePrimary(): {
  broadcast(type: 'streamedge:draining' | 'streamedge:shutdown'): void;
  /** Resolves once `count` workers have announced their sibling port and been told of each other. */
  siblingsKnown(count: number): Promise<void>;
} {
  const aggregator = new AggregatorRegistry();
  const workers = (): Worker[] => Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && worker.isConnected());
  const siblings = new Map<number, SiblingAddress>();
  let waiting: { count: number; resolve: () => void } | undefined;
  const shareSiblings = (): void => {
    for (const worker of workers()) sendToWorker(worker, { type: 'streamedge:siblings', siblings: [...siblings.values()] });
    if (waiting && siblings.size >= waiting.count) waiting.resolve();
  };
  cluster.on('exit', (worker: Worker) => {
    if (siblings.delete(worker.id)) shareSiblings();
  });
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (isBridgeMessage(message) && message.type === 'streamedge:sibling') {
      siblings.set(worker.id, message.sibling);
      shareSiblings();
    }
  });
  answerAsks(CLUSTER_METRICS, () =>
    aggregator.clusterMetrics().then(
      (body) => ({ contentType: aggregator.contentType, body }),
      (error: Error) => ({ contentType: 'text/plain', body: `# metrics unavailable: ${error.message}\n` }),
    ),
  );
  // The asker is a worker too: its own copies count. A worker that fails or stays silent counts 0.
  answerAsks<PurgeRequest>(PURGE_EVERYWHERE, async (_asker, request) => {
    const { answers } = await askWorkers<number>(PURGE_LOCAL, WORKER_ASK_TIMEOUT_MS, { payload: request });
    return answers.reduce((sum, purged) => sum + purged, 0);
  });
  return {
    broadcast(type) {
      for (const worker of workers()) sendToWorker(worker, { type });
    },
    siblingsKnown(count) {
      if (siblings.size >= count) return Promise.resolve();
      return new Promise((resolve) => (waiting = { count, resolve }));
    },
  };
}
