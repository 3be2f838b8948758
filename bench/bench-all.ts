// `npm run bench`: every benchmark in one go (edge with nginx, Varnish and Traffic Server; the
// proxy front with HAProxy; the cluster's balancing strategies; a short soak), one after the other so they do not
// compete for the CPU, each bounded in time. Samples every process's RSS while each runs, then writes
// bench-results/<timestamp>/ (report.html with SVG charts, results.json, each benchmark's JSON, and
// bench.log) and prints a summary. Run: npm run bench [-- --quick]
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HelpRequested, OptionError, parseCommandOptions } from '../infra/runtime/command-options.js';
import { treeRss } from '../infra/testing/process-footprint.js';
import { renderReportHtml, summaryTable, type BenchRun, type BenchSuite, type ProcessRss } from './report-html.js';
import { TARGET_MISSED_EXIT_CODE } from './bench-runner.js';
import { renderTable, type BenchReport } from './report.js';

const OPTIONS = {
  quick: { kind: 'boolean', description: 'fewer, shorter rounds and a smaller cluster workload (about 4 minutes instead of about 8 on 2 cores)' },
  out: { kind: 'string', description: 'directory that receives <timestamp>/report.html', default: 'bench-results' },
  'rss-interval': { kind: 'duration', description: 'RSS sampling interval', default: 1000, min: 200, max: 60_000 },
} as const;

interface PlannedBench {
  readonly benchmark: string;
  readonly args: readonly string[];
  /** The run is stopped (SIGTERM, its clean-up runs) past this; reported as failed. */
  readonly timeoutMs: number;
}

const MINUTE = 60_000;

export function planBenches(quick: boolean): PlannedBench[] {
  return quick
    ? [
        { benchmark: 'edge-vs-nginx', args: ['--rounds', '1', '--round-seconds', '3', '--herd-rounds', '1', '--herd-clients', '200', '--miss-rounds', '1'], timeoutMs: 8 * MINUTE },
        { benchmark: 'proxy-overhead', args: ['--rounds', '1', '--round-seconds', '3'], timeoutMs: 4 * MINUTE },
        { benchmark: 'cluster-efficiency', args: ['--assets', '60', '--requests', '3000', '--viewers', '60'], timeoutMs: 12 * MINUTE },
        // Room for one drill between the compared intervals (edge-kill).
        { benchmark: 'soak', args: ['--minutes', '3'], timeoutMs: 8 * MINUTE },
      ]
    : [
        { benchmark: 'edge-vs-nginx', args: [], timeoutMs: 20 * MINUTE },
        { benchmark: 'proxy-overhead', args: [], timeoutMs: 8 * MINUTE },
        { benchmark: 'cluster-efficiency', args: [], timeoutMs: 30 * MINUTE },
        // Room for two drills between the compared intervals (edge-kill, origin-slow).
        { benchmark: 'soak', args: ['--minutes', '4'], timeoutMs: 10 * MINUTE },
      ];
}

/**
 * A readable name for a process in the RSS chart: the streamedge role and id, else the kernel's
 * short name (`comm`: nginx and Varnish rewrite their command lines into long titles).
 */
export function processLabel(argv: readonly string[], comm: string, pid: number): string | undefined {
  const script = argv.find((arg) => arg.endsWith('.js'));
  if (script?.endsWith('orphan-guard-process.js') || comm === 'wrk') return undefined; // helpers, not contenders
  if (script?.endsWith('streamedge.js')) {
    const role = argv[argv.indexOf(script) + 1] ?? 'streamedge';
    const id = argv.indexOf('--id');
    return `${role}${id > 0 ? ` ${argv[id + 1]}` : ''} pid ${pid}`;
  }
  if (script && script.includes('/bench/')) return `bench runner pid ${pid}`;
  return `${comm || basename(argv[0] ?? '') || 'process'} pid ${pid}`;
}

async function procText(pid: number, file: 'cmdline' | 'comm'): Promise<string> {
  try {
    return await readFile(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Why a benchmark did not complete, or undefined when it did: exit code 0, or a soak's missed
 * target with its report published (the summary lists the missed targets).
 */
export function failureOf(exitCode: number, timedOutAfterMs: number | undefined, published: boolean): string | undefined {
  if (timedOutAfterMs !== undefined) return `timed out after ${timedOutAfterMs / MINUTE} min`;
  if (exitCode === 0 || (exitCode === TARGET_MISSED_EXIT_CODE && published)) return undefined;
  return `exit code ${exitCode}`;
}

/** Processes seen in fewer samples than this (a compiler run by Varnish, a short probe) are left out of the chart. */
const MIN_SAMPLES = 3;

/** Samples the RSS of a process tree until stopped; processes are told apart by pid. */
function sampleTreeRss(root: number, intervalMs: number): { stop(): Promise<ProcessRss[]> } {
  const started = Date.now();
  const series = new Map<number, { label: string; points: [number, number][] }>();
  let sampling = Promise.resolve();
  const sample = async (): Promise<void> => {
    const seconds = (Date.now() - started) / 1000;
    for (const { pid, rssBytes } of await treeRss(root)) {
      let entry = series.get(pid);
      if (!entry) {
        const label = processLabel((await procText(pid, 'cmdline')).split('\0').filter(Boolean), (await procText(pid, 'comm')).trim(), pid);
        if (label === undefined) continue;
        entry = { label, points: [] };
        series.set(pid, entry);
      }
      entry.points.push([Math.round(seconds * 10) / 10, rssBytes]);
    }
  };
  const timer = setInterval(() => (sampling = sampling.then(sample).catch(() => {})), intervalMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await sampling;
      return [...series.values()].filter((entry) => entry.points.length >= MIN_SAMPLES);
    },
  };
}

async function runOne(plan: PlannedBench, resultsDir: string, log: NodeJS.WritableStream, rssIntervalMs: number, current: { child?: ReturnType<typeof spawn> }): Promise<BenchRun> {
  const script = fileURLToPath(new URL(`./${plan.benchmark}.js`, import.meta.url));
  const before = new Set(await readdir(resultsDir));
  const started = Date.now();
  console.log(`\n=== ${plan.benchmark} ${plan.args.join(' ')} (at most ${plan.timeoutMs / MINUTE} min)`);
  const child = spawn(process.execPath, [script, ...plan.args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, STREAMEDGE_BENCH_RESULTS: resultsDir } });
  current.child = child;
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      log.write(chunk);
    });
  }
  const rss = sampleTreeRss(child.pid!, rssIntervalMs);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), MINUTE).unref();
  }, plan.timeoutMs);
  const exitCode = await new Promise<number>((resolveExit) => child.once('exit', (code, signal) => resolveExit(code ?? (signal ? 128 : 1))));
  clearTimeout(timer);
  current.child = undefined;
  const processes = await rss.stop();
  const produced = (await readdir(resultsDir)).filter((name) => !before.has(name) && name.startsWith(`${plan.benchmark}-`) && name.endsWith('.json'));
  const report = produced.length > 0 ? (JSON.parse(await readFile(join(resultsDir, produced.sort().at(-1)!), 'utf8')) as BenchReport) : undefined;
  const failure = failureOf(exitCode, timedOut ? plan.timeoutMs : undefined, report !== undefined);
  return {
    benchmark: plan.benchmark,
    args: plan.args,
    exitCode: timedOut ? 124 : exitCode,
    ...(failure === undefined ? {} : { failure }),
    seconds: (Date.now() - started) / 1000,
    ...(report ? { report } : {}),
    rss: processes,
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = parseCommandOptions('bench', 'Every benchmark with its peers, one HTML report.', OPTIONS, argv);
  const startedAt = new Date().toISOString();
  const dir = resolve(options.out, startedAt.replace(/[:.]/g, '-'));
  await mkdir(dir, { recursive: true });
  const log = createWriteStream(join(dir, 'bench.log'));
  const current: { child?: ReturnType<typeof spawn> } = {};
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
    current.child?.kill('SIGTERM'); // the benchmark's own runner cleans up its processes
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const runs: BenchRun[] = [];
  for (const plan of planBenches(options.quick)) {
    if (interrupted) break;
    runs.push(await runOne(plan, dir, log, options['rss-interval'], current));
  }
  await new Promise<void>((done) => log.end(done));
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const suite: BenchSuite = {
    startedAt,
    command: `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`,
    quick: options.quick,
    machine: `${availableParallelism()} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    runs,
    notes: [
      'Benchmarks run one after the other; within each, contenders alternate round by round with the same client, and every round is in the JSON.',
      'Client, servers and origin share this machine\'s cores: read the ratios, not the absolute figures. Other work on the machine at the same time adds noise.',
      ...(interrupted ? ['Interrupted: benchmarks after the interruption did not run.'] : []),
    ],
  };
  await writeFile(join(dir, 'results.json'), `${JSON.stringify(suite, null, 2)}\n`);
  await writeFile(join(dir, 'report.html'), renderReportHtml(suite));
  console.log(`\n${renderTable(summaryTable(suite))}`);
  console.log(`\nreport: ${join(dir, 'report.html')}`);
  if (interrupted || runs.some((run) => run.failure !== undefined)) process.exitCode = 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await main().catch((error: unknown) => {
    if (error instanceof HelpRequested) console.log(error.usage.replace(/^Usage: streamedge (\S+)/, 'Usage: npm run $1 --'));
    else {
      console.error(error instanceof OptionError ? `bench: ${error.message}` : `bench failed: ${(error as Error).stack ?? String(error)}`);
      process.exitCode = error instanceof OptionError ? 2 : 1;
    }
  });
}
