// After a fuzz or abuse run: is the server alive and healthy, are the objects it caches still the
// origin's bytes, and has it given back the memory and descriptors the run made it take?
import type { KnownObject } from './http-fuzz-cases.js';
import { treeFootprint, type Footprint } from './process-footprint.js';

export interface AftermathOptions {
  readonly url: string;
  readonly pid: number;
  readonly baseline: Footprint;
  readonly known: readonly KnownObject[];
  /** How long the server may take to settle (idle connections time out, garbage is collected). */
  readonly settleMs: number;
  readonly rssSlackBytes: number;
  readonly fdSlack: number;
  /** Extra request headers for the known-object fetches (a balancer's region hint). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Aftermath {
  readonly problems: readonly string[];
  readonly after: Footprint;
  readonly settledMs: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function checkAftermath(options: AftermathOptions): Promise<Aftermath> {
  const problems: string[] = [];
  if (!alive(options.pid)) return { problems: [`process ${options.pid} is gone`], after: { rssBytes: 0, fds: 0 }, settledMs: 0 };
  const health = await fetch(`${options.url}/healthz`, { signal: AbortSignal.timeout(5000) }).catch((error: unknown) => error as Error);
  if (health instanceof Error || health.status !== 200) problems.push(`/healthz: ${health instanceof Error ? health.message : health.status}`);
  for (const known of options.known) {
    const response = await fetch(`${options.url}${known.path}`, { headers: options.headers, signal: AbortSignal.timeout(10_000) });
    const body = Buffer.from(await response.arrayBuffer());
    if (response.status !== 200 || !body.equals(known.body)) problems.push(`${known.path}: ${response.status}, ${body.length} bytes, not the origin's ${known.body.length}`);
  }
  const started = performance.now();
  const settled = (footprint: Footprint): boolean =>
    footprint.fds <= options.baseline.fds + options.fdSlack && footprint.rssBytes <= options.baseline.rssBytes + options.rssSlackBytes;
  let after = await treeFootprint(options.pid);
  while (!settled(after) && performance.now() - started < options.settleMs) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    after = await treeFootprint(options.pid);
  }
  if (after.fds > options.baseline.fds + options.fdSlack) problems.push(`${after.fds} open fds, baseline ${options.baseline.fds} (+${options.fdSlack} allowed)`);
  if (after.rssBytes > options.baseline.rssBytes + options.rssSlackBytes) {
    problems.push(`RSS ${Math.round(after.rssBytes / 2 ** 20)} MB, baseline ${Math.round(options.baseline.rssBytes / 2 ** 20)} MB (+${Math.round(options.rssSlackBytes / 2 ** 20)} MB allowed)`);
  }
  return { problems, after, settledMs: performance.now() - started };
}

/** The known objects as the origin serves them: bytes and ETag. */
export async function fetchKnownObjects(originUrl: string, paths: readonly string[]): Promise<KnownObject[]> {
  return Promise.all(
    paths.map(async (path) => {
      const response = await fetch(`${originUrl}${path}`, { signal: AbortSignal.timeout(10_000) });
      if (response.status !== 200) throw new Error(`origin ${path}: ${response.status}`);
      return { path, body: Buffer.from(await response.arrayBuffer()), etag: response.headers.get('etag') ?? '' };
    }),
  );
}
