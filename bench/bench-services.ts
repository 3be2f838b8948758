import { fetch, type Dispatcher } from 'undici';
import { spawnStreamedge, type StreamedgeProcess } from '../stack/streamedge-process.js';
import type { BenchResources } from './bench-runner.js';

/**
 * Starts a real streamedge service (origin, edge, balancer) for a benchmark: guarded against
 * orphaning, stopped at the end, with only a bounded tail of its logs kept.
 */
export async function startBenchService(resources: BenchResources, args: readonly string[]): Promise<StreamedgeProcess> {
  const service = await spawnStreamedge(args, { outputLimit: 64 * 1024, startTimeoutMs: 30_000 });
  resources.guard.watch(service.child.pid);
  resources.defer(() => service.stop(10_000));
  return service;
}

/** GETs every URL with a bounded number in flight (through `dispatcher`, e.g. one trusting a CA); resolves with bytes received per URL. */
export async function fetchAll(urls: readonly string[], concurrency: number, headers: Record<string, string> = {}, dispatcher?: Dispatcher): Promise<number[]> {
  const sizes = new Array<number>(urls.length).fill(0);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < urls.length) {
      const index = next++;
      const response = await fetch(urls[index]!, { headers, signal: AbortSignal.timeout(30_000), ...(dispatcher ? { dispatcher } : {}) });
      const body = await response.arrayBuffer();
      if (!response.ok) throw new Error(`GET ${urls[index]} → ${response.status}`);
      sizes[index] = body.byteLength;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, urls.length) }, worker));
  return sizes;
}
