import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LineChart } from './svg-charts.js';
import type { LoadResult } from './wrk-load.js';

export type Cell = string | number;

export interface BenchTable {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
}

/** A target the benchmark checks, reported as met or missed (benchmarks report, they do not fail). */
export interface TargetCheck {
  readonly name: string;
  readonly measured: number;
  readonly target: string;
  readonly met: boolean;
}

/** Every load round of one contender on one object, for the charts of the HTML report. */
export interface LoadRounds {
  readonly object: string;
  readonly contender: string;
  readonly rounds: readonly LoadResult[];
}

export interface BenchReport {
  readonly benchmark: string;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly tables: readonly BenchTable[];
  readonly targets: readonly TargetCheck[];
  readonly notes?: readonly string[];
  /** Raw per-round load results behind the tables (charted by `npm run bench`). */
  readonly loadRounds?: readonly LoadRounds[];
  /** Figures over the run's time, charted as they are (the soak: per process, with fault windows). */
  readonly timeSeries?: readonly LineChart[];
}

export function formatCell(cell: Cell): string {
  if (typeof cell === 'string') return cell;
  if (Number.isInteger(cell)) return String(cell);
  return Math.abs(cell) >= 100 ? cell.toFixed(0) : Math.abs(cell) >= 10 ? cell.toFixed(1) : cell.toFixed(2);
}

export function renderTable(table: BenchTable): string {
  const cells = [table.columns, ...table.rows.map((row) => row.map(formatCell))];
  const widths = table.columns.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  const line = (row: readonly string[]): string =>
    row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [table.title, line(table.columns), widths.map((width) => '-'.repeat(width)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export function atLeast(name: string, measured: number, target: number): TargetCheck {
  return { name, measured, target: `≥ ${target}`, met: measured >= target };
}

export function atMost(name: string, measured: number, target: number): TargetCheck {
  return { name, measured, target: `≤ ${target}`, met: measured <= target };
}

/** Where results go: $STREAMEDGE_BENCH_RESULTS, else a directory under os.tmpdir() (never the repo). */
export function resultsDir(): string {
  return process.env.STREAMEDGE_BENCH_RESULTS || join(tmpdir(), 'streamedge-bench-results');
}

/** Prints every table and the target checks, and writes the whole report as JSON. */
export async function publishReport(report: BenchReport): Promise<string> {
  for (const table of report.tables) console.log(`\n${renderTable(table)}`);
  if (report.targets.length > 0) {
    console.log(
      `\n${renderTable({
        title: 'Targets',
        columns: ['check', 'measured', 'target', 'result'],
        rows: report.targets.map((check) => [check.name, check.measured, check.target, check.met ? 'met' : 'MISSED']),
      })}`,
    );
  }
  for (const note of report.notes ?? []) console.log(`note: ${note}`);
  const dir = resultsDir();
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${report.benchmark}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify({ ...report, at: new Date().toISOString(), node: process.version }, null, 2)}\n`);
  console.log(`\nresults: ${file}`);
  return file;
}
