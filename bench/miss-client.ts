// The miss path under load: a list of objects neither cache holds is fetched once each by a few
// keep-alive viewers, so every request goes through the cache to the origin. What is measured is
// the cache's own cost per miss (request forwarding, storability rules, storing), on top of an
// origin both contenders share.
import { Agent, request } from 'node:http';
import { percentile } from './wrk-load.js';

export interface MissResult {
  readonly requests: number;
  /** Misses completed per second over the whole run. */
  readonly perSecond: number;
  /** Time from sending a request to the end of its body. */
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  /** Failed requests, non-200 answers and answers the cache did not call a miss. */
  readonly failed: number;
}

/**
 * GETs each URL once with `concurrency` keep-alive connections; `isMiss` reads the response's
 * Cache-Status so a hit (a URL reused by mistake) counts as a failure, not a fast miss.
 */
export async function runMisses(urls: readonly string[], concurrency: number, isMiss: (cacheStatus: string) => boolean, timeoutMs = 30_000): Promise<MissResult> {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new TypeError('runMisses: concurrency must be ≥ 1');
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let failed = 0;
  let next = 0;
  const one = (url: URL): Promise<void> =>
    new Promise((resolve) => {
      const started = performance.now();
      const fail = (): void => {
        failed++;
        resolve();
      };
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, agent, timeout: timeoutMs }, (response) => {
        response.on('data', () => {});
        response.once('error', fail);
        response.once('end', () => {
          const cacheStatus = String(response.headers['cache-status'] ?? '');
          if (response.statusCode !== 200 || !isMiss(cacheStatus)) {
            fail();
            return;
          }
          latencies.push(performance.now() - started);
          resolve();
        });
      });
      req.once('timeout', () => req.destroy(new Error('timeout')));
      req.once('error', fail);
      req.end();
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, urls.length) }, async () => {
      while (next < urls.length) await one(new URL(urls[next++]!));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { requests: urls.length, perSecond: latencies.length / seconds, latencyP50Ms: percentile(latencies, 50), latencyP99Ms: percentile(latencies, 99), failed };
}
