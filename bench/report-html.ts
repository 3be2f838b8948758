// The HTML report of `npm run bench`: every benchmark's tables, targets and notes, with inline SVG
// charts drawn from the same JSON (no script, no external asset: it opens offline, from a mail too).
import { formatCell, type BenchReport, type BenchTable, type LoadRounds } from './report.js';
import { escapeXml, groupedBarChartSvg, lineChartSvg, type GroupedBarChart, type LineChart } from './svg-charts.js';
import { median } from './wrk-load.js';

export interface ProcessRss {
  /** e.g. "edge bench-edge pid 123" */
  readonly label: string;
  /** [seconds since the benchmark started, RSS bytes] */
  readonly points: readonly (readonly [number, number])[];
}

export interface BenchRun {
  readonly benchmark: string;
  readonly args: readonly string[];
  readonly exitCode: number;
  /** Why the benchmark did not complete; absent when it did (exit code 0, or a soak's missed target with its report). */
  readonly failure?: string;
  readonly seconds: number;
  /** What the benchmark published; absent when it failed before publishing. */
  readonly report?: BenchReport;
  readonly rss: readonly ProcessRss[];
}

export interface BenchSuite {
  readonly startedAt: string;
  readonly command: string;
  readonly quick: boolean;
  readonly machine: string;
  readonly runs: readonly BenchRun[];
  readonly notes: readonly string[];
}

const MB = 1024 * 1024;

function contendersAndObjects(loadRounds: readonly LoadRounds[]): { objects: string[]; contenders: string[] } {
  return {
    objects: [...new Set(loadRounds.map((entry) => entry.object))],
    contenders: [...new Set(loadRounds.map((entry) => entry.contender))],
  };
}

function roundsOf(loadRounds: readonly LoadRounds[], object: string, contender: string): LoadRounds {
  const entry = loadRounds.find((candidate) => candidate.object === object && candidate.contender === contender);
  if (!entry || entry.rounds.length === 0) throw new RangeError(`no load rounds for ${contender} on ${object}`);
  return entry;
}

/** Median req/s of the rounds, grouped by object (size), one bar per contender. */
export function throughputChart(benchmark: string, loadRounds: readonly LoadRounds[]): GroupedBarChart {
  const { objects, contenders } = contendersAndObjects(loadRounds);
  return {
    title: `${benchmark}: throughput (median req/s of the rounds)`,
    groups: objects,
    series: contenders.map((contender) => ({
      name: contender,
      values: objects.map((object) => median(roundsOf(loadRounds, object, contender).rounds.map((round) => round.requestsPerSecond))),
    })),
    unit: 'req/s',
    scale: 'log',
  };
}

/** Latency p50 / p90 / p99 / max per contender on one object (median over the rounds). */
export function latencyChart(benchmark: string, loadRounds: readonly LoadRounds[], object: string): GroupedBarChart {
  const { contenders } = contendersAndObjects(loadRounds);
  const percentiles = [
    ['p50', 'latencyP50Ms'],
    ['p90', 'latencyP90Ms'],
    ['p99', 'latencyP99Ms'],
    ['max', 'latencyMaxMs'],
  ] as const;
  return {
    title: `${benchmark}: latency on ${object} (median of the rounds)`,
    groups: contenders,
    series: percentiles.map(([name, field]) => ({
      name,
      values: contenders.map((contender) => median(roundsOf(loadRounds, object, contender).rounds.map((round) => round[field]))),
    })),
    unit: 'ms',
    scale: 'log',
  };
}

/** Origin bytes per balancing strategy from the cluster benchmark's table, against the single-cache ideal. */
export function originBytesChart(report: BenchReport): GroupedBarChart | undefined {
  const table = report.tables.find((candidate) => candidate.columns[0] === 'strategy' && candidate.columns.includes('origin MB'));
  if (!table) return undefined;
  const column = table.columns.indexOf('origin MB');
  const ideal = report.settings.idealBytes;
  return {
    title: `${report.benchmark}: bytes fetched from the origin per balancing strategy`,
    groups: table.rows.map((row) => String(row[0])),
    series: [{ name: 'origin MB', values: table.rows.map((row) => Number(row[column])) }],
    unit: 'MB',
    ...(typeof ideal === 'number' ? { reference: { value: ideal / 1e6, label: `single-cache ideal ${(ideal / 1e6).toFixed(1)} MB` } } : {}),
  };
}

export function rssChart(run: BenchRun): LineChart {
  return {
    title: `${run.benchmark}: RSS per process over the run`,
    xUnit: 'seconds since the benchmark started',
    yUnit: 'RSS MB',
    series: run.rss.map((process) => ({ name: process.label, points: process.points.map(([seconds, bytes]) => [seconds, bytes / MB] as const) })),
  };
}

/** Every chart one benchmark's results support, in reading order. */
export function chartsFor(run: BenchRun): string[] {
  const charts: string[] = [];
  const loadRounds = run.report?.loadRounds ?? [];
  if (loadRounds.length > 0) {
    charts.push(groupedBarChartSvg(throughputChart(run.benchmark, loadRounds)));
    for (const object of contendersAndObjects(loadRounds).objects) charts.push(groupedBarChartSvg(latencyChart(run.benchmark, loadRounds, object)));
  }
  const origin = run.report ? originBytesChart(run.report) : undefined;
  if (origin) charts.push(groupedBarChartSvg(origin));
  for (const chart of run.report?.timeSeries ?? []) charts.push(lineChartSvg(chart));
  if (run.rss.some((process) => process.points.length > 0)) charts.push(lineChartSvg(rssChart(run)));
  return charts;
}

function htmlTable(table: BenchTable): string {
  const head = table.columns.map((column) => `<th>${escapeXml(column)}</th>`).join('');
  const rows = table.rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeXml(formatCell(cell))}</td>`).join('')}</tr>`).join('\n');
  return `<table><caption>${escapeXml(table.title)}</caption>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${rows}\n</tbody></table>`;
}

/** One line per benchmark: did it finish, how long it took, which targets it met. */
export function summaryTable(suite: BenchSuite): BenchTable {
  return {
    title: 'npm run bench: summary',
    columns: ['benchmark', 'result', 'seconds', 'targets met', 'missed'],
    rows: suite.runs.map((run) => {
      const targets = run.report?.targets ?? [];
      const missed = targets.filter((target) => !target.met);
      return [
        run.benchmark,
        run.failure === undefined ? 'completed' : `FAILED (${run.failure})`,
        Math.round(run.seconds),
        `${targets.length - missed.length}/${targets.length}`,
        missed.map((target) => `${target.name}: ${formatCell(target.measured)} (${target.target})`).join('; '),
      ];
    }),
  };
}

function section(run: BenchRun): string {
  const parts = [`<h2>${escapeXml(run.benchmark)}</h2>`, `<p class="command"><code>${escapeXml(['node', `dist/bench/${run.benchmark}.js`, ...run.args].join(' '))}</code> — ${Math.round(run.seconds)} s</p>`];
  if (run.failure !== undefined) parts.push(`<p class="failed">Did not complete: ${escapeXml(run.failure)}. See bench.log beside this report.</p>`);
  parts.push(...chartsFor(run).map((svg) => `<figure>${svg}</figure>`));
  if (run.report) {
    parts.push(...run.report.tables.map(htmlTable));
    if (run.report.targets.length > 0) {
      parts.push(
        htmlTable({
          title: 'Targets',
          columns: ['check', 'measured', 'target', 'result'],
          rows: run.report.targets.map((target) => [target.name, target.measured, target.target, target.met ? 'met' : 'MISSED']),
        }),
      );
    }
    parts.push(`<ul class="notes">${(run.report.notes ?? []).map((note) => `<li>${escapeXml(note)}</li>`).join('')}</ul>`);
    parts.push(`<details><summary>settings</summary><pre>${escapeXml(JSON.stringify(run.report.settings, null, 2))}</pre></details>`);
  }
  return `<section>\n${parts.join('\n')}\n</section>`;
}

export function renderReportHtml(suite: BenchSuite): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>streamedge benchmarks ${escapeXml(suite.startedAt)}</title>
<style>
body { font-family: sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 13px; }
caption { text-align: left; font-weight: bold; padding: 4px 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { margin: 1em 0; }
.failed { color: #b00; font-weight: bold; }
code { background: #f4f4f4; padding: 1px 4px; }
</style>
</head>
<body>
<h1>streamedge benchmarks</h1>
<p>Started ${escapeXml(suite.startedAt)} on ${escapeXml(suite.machine)} with <code>${escapeXml(suite.command)}</code>${suite.quick ? ' (quick: fewer, shorter rounds)' : ''}.</p>
<ul>${suite.notes.map((note) => `<li>${escapeXml(note)}</li>`).join('')}</ul>
${htmlTable(summaryTable(suite))}
${suite.runs.map(section).join('\n')}
</body>
</html>
`;
}
