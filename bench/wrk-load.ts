import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly threads?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface LoadResult {
  readonly requests: number;
  readonly requestsPerSecond: number;
  /** Response bytes per second (headers and bodies), MB = 10^6 bytes. */
  readonly megabytesPerSecond: number;
  readonly latencyP50Ms: number;
  readonly latencyP90Ms: number;
  readonly latencyP99Ms: number;
  readonly latencyMaxMs: number;
  /** Socket errors plus non-2xx/3xx responses. */
  readonly errors: number;
}

// wrk's Lua `done` hook prints one JSON line, so nothing depends on wrk's human-readable layout.
const REPORT_SCRIPT = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_JSON {"requests":%d,"bytes":%d,"duration_us":%d,"errors":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\\n',
    summary.requests, summary.bytes, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`;

/**
 * One bounded load run with wrk (C, epoll), so on a small machine the client costs far less CPU
 * than the servers it measures; every contender in a benchmark uses the same client settings.
 */
export async function runWrk(options: LoadOptions): Promise<LoadResult> {
  if (!Number.isInteger(options.connections) || options.connections < 1) throw new TypeError('runWrk: connections must be ≥ 1');
  if (!(options.durationSeconds > 0 && options.durationSeconds <= 120)) throw new TypeError('runWrk: durationSeconds must be in (0, 120]');
  const dir = await mkdtemp(join(tmpdir(), 'streamedge-wrk-'));
  try {
    const script = join(dir, 'report.lua');
    await writeFile(script, REPORT_SCRIPT);
    const threads = Math.min(options.threads ?? 1, options.connections);
    const args = [
      `-t${threads}`, `-c${options.connections}`, `-d${options.durationSeconds}s`, '--timeout', '10s', '-s', script,
      ...Object.entries(options.headers ?? {}).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
      options.url,
    ];
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.once('error', (error) => reject(new Error(`cannot run wrk (apt-get install wrk): ${error.message}`)));
      child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited with ${code}:\n${text}`))));
    });
    const line = output.split('\n').find((candidate) => candidate.startsWith('WRK_JSON '));
    if (!line) throw new Error(`wrk printed no report:\n${output}`);
    const raw = JSON.parse(line.slice('WRK_JSON '.length)) as Record<string, number>;
    const seconds = raw.duration_us! / 1e6;
    return {
      requests: raw.requests!,
      requestsPerSecond: raw.requests! / seconds,
      megabytesPerSecond: raw.bytes! / seconds / 1e6,
      latencyP50Ms: raw.p50_us! / 1000,
      latencyP90Ms: raw.p90_us! / 1000,
      latencyP99Ms: raw.p99_us! / 1000,
      latencyMaxMs: raw.max_us! / 1000,
      errors: raw.errors!,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Nearest-rank percentile of an already sorted list (NaN for an empty one). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Runs each contender once per round, alternating, and keeps every round's result per contender. */
export async function alternateRounds<Name extends string, T>(
  rounds: number,
  contenders: readonly Name[],
  runOne: (contender: Name, round: number) => Promise<T>,
): Promise<Map<Name, T[]>> {
  const results = new Map<Name, T[]>(contenders.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    // Swap the order every round so neither contender always runs right after the other warmed the CPU.
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    for (const contender of order) results.get(contender)!.push(await runOne(contender, round));
  }
  return results;
}
