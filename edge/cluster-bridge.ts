// node:cluster plumbing for the edge. Workers share the listening socket; each has its own cache.
// The primary owns Consul registration and drain, aggregates /metrics with prom-client's
// AggregatorRegistry (counters and gauges summed over workers), and fans purges out to every worker.
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { sendToWorker } from '../infra/runtime/worker-messages.js';
import type { PurgeRequest } from './pipeline/edge-runtime.js';
import type { SiblingAddress } from './sibling-workers.js';

type BridgeMessage =
  | { type: 'streamedge:metrics'; id: number }
  | { type: 'streamedge:metrics-reply'; id: number; contentType: string; body: string }
  | { type: 'streamedge:purge'; id: number; request: PurgeRequest }
  | { type: 'streamedge:purge-reply'; id: number; purged: number }
  | { type: 'streamedge:purge-local'; id: number; request: PurgeRequest }
  | { type: 'streamedge:purged'; id: number; purged: number }
  | { type: 'streamedge:sibling'; sibling: SiblingAddress }
  | { type: 'streamedge:siblings'; siblings: SiblingAddress[] }
  | { type: 'streamedge:draining' }
  | { type: 'streamedge:shutdown' };

function isBridgeMessage(value: unknown): value is BridgeMessage {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string' && (value as { type: string }).type.startsWith('streamedge:');
}

let nextId = 1;
const pending = new Map<number, (message: BridgeMessage) => void>();

function call(send: (message: BridgeMessage) => void, message: BridgeMessage & { id: number }, timeoutMs = 10_000): Promise<BridgeMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(message.id);
      reject(new Error(`cluster ${message.type} timed out`));
    }, timeoutMs);
    pending.set(message.id, (reply) => {
      clearTimeout(timer);
      resolve(reply);
    });
    send(message);
  });
}

function settle(message: BridgeMessage): boolean {
  if (!('id' in message)) return false;
  const resolve = pending.get(message.id);
  if (!resolve) return false;
  pending.delete(message.id);
  resolve(message);
  return true;
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
  process.on('message', (message: unknown) => {
    if (!isBridgeMessage(message)) return;
    if (message.type === 'streamedge:purge-local') send({ type: 'streamedge:purged', id: message.id, purged: handlers.purgeLocal(message.request) });
    else if (message.type === 'streamedge:draining') handlers.onDraining();
    else if (message.type === 'streamedge:shutdown') handlers.onShutdown();
    else if (message.type === 'streamedge:siblings') handlers.onSiblings(message.siblings);
    else settle(message);
  });
  return {
    announceSibling: (sibling) => send({ type: 'streamedge:sibling', sibling }),
    async purgeAll(request) {
      const reply = await call(send, { type: 'streamedge:purge', id: nextId++, request });
      return reply.type === 'streamedge:purge-reply' ? reply.purged : 0;
    },
    async metricsText() {
      const reply = await call(send, { type: 'streamedge:metrics', id: nextId++ });
      if (reply.type !== 'streamedge:metrics-reply') throw new Error('unexpected metrics reply');
      return { contentType: reply.contentType, body: reply.body };
    },
  };
}

/** Primary side: answers workers' metrics and purge requests; broadcasts drain commands. */
export function servePrimary(): { broadcast(type: 'streamedge:draining' | 'streamedge:shutdown'): void } {
  const aggregator = new AggregatorRegistry();
  const workers = (): Worker[] => Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && worker.isConnected());
  const siblings = new Map<number, SiblingAddress>();
  const shareSiblings = (): void => {
    for (const worker of workers()) sendToWorker(worker, { type: 'streamedge:siblings', siblings: [...siblings.values()] });
  };
  cluster.on('exit', (worker: Worker) => {
    if (siblings.delete(worker.id)) shareSiblings();
  });
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isBridgeMessage(message)) return;
    if (message.type === 'streamedge:sibling') {
      siblings.set(worker.id, message.sibling);
      shareSiblings();
    } else if (message.type === 'streamedge:metrics') {
      aggregator.clusterMetrics().then(
        (body) => sendToWorker(worker, { type: 'streamedge:metrics-reply', id: message.id, contentType: aggregator.contentType, body }),
        (error: Error) => sendToWorker(worker, { type: 'streamedge:metrics-reply', id: message.id, contentType: 'text/plain', body: `# metrics unavailable: ${error.message}\n` }),
      );
    } else if (message.type === 'streamedge:purge') {
      Promise.all(
        workers().map((target) =>
          call((m) => sendToWorker(target, m), { type: 'streamedge:purge-local', id: nextId++, request: message.request }).then(
            (reply) => (reply.type === 'streamedge:purged' ? reply.purged : 0),
            () => 0,
          ),
        ),
      ).then((counts) => sendToWorker(worker, { type: 'streamedge:purge-reply', id: message.id, purged: counts.reduce((a, b) => a + b, 0) }));
    } else {
      settle(message);
    }
  });
  return {
    broadcast(type) {
      for (const worker of workers()) sendToWorker(worker, { type });
    },
  };
}
