import { request, Agent } from 'node:http';
import { percentile } from './wrk-load.js';

export interface HerdResult {
  readonly clients: number;
  readonly ok: number;
  readonly failed: number;
  /** Clients whose body length differed from the expected size. */
  readonly wrongLength: number;
  readonly ttfbP50Ms: number;
  readonly ttfbP99Ms: number;
  readonly completeP99Ms: number;
}

/**
 * `clients` concurrent viewers each open their own connection and ask for the same URL at once;
 * time to first byte is measured from the moment the requests are released to each client's
 * response headers. Bounded by `timeoutMs` per client.
 */
export async function runHerd(url: string, clients: number, expectedBytes: number, timeoutMs = 30_000): Promise<HerdResult> {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const target = new URL(url);
  const started = performance.now();
  const outcomes = await Promise.all(
    Array.from(
      { length: clients },
      () =>
        new Promise<{ ok: boolean; bytes: number; ttfb: number; complete: number }>((resolve) => {
          const failed = (): void => resolve({ ok: false, bytes: 0, ttfb: NaN, complete: NaN });
          const req = request(
            { host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, agent, timeout: timeoutMs },
            (response) => {
              const ttfb = performance.now() - started;
              let bytes = 0;
              response.on('data', (chunk: Buffer) => (bytes += chunk.length));
              response.once('end', () => resolve({ ok: response.statusCode === 200, bytes, ttfb, complete: performance.now() - started }));
              response.once('error', failed);
            },
          );
          req.once('timeout', () => req.destroy(new Error('timeout')));
          req.once('error', failed);
          req.end();
        }),
    ),
  );
  agent.destroy();
  const ok = outcomes.filter((outcome) => outcome.ok);
  const ttfbs = ok.map((outcome) => outcome.ttfb).sort((a, b) => a - b);
  const completes = ok.map((outcome) => outcome.complete).sort((a, b) => a - b);
  return {
    clients,
    ok: ok.length,
    failed: clients - ok.length,
    wrongLength: ok.filter((outcome) => outcome.bytes !== expectedBytes).length,
    ttfbP50Ms: percentile(ttfbs, 50),
    ttfbP99Ms: percentile(ttfbs, 99),
    completeP99Ms: percentile(completes, 99),
  };
}
