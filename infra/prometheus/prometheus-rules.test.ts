// The Prometheus files are checked by Prometheus's own tool (promtool: config, rules, the unit tests
// of every alert) and against the code: every metric a rule reads must be one the services export,
// so renaming a metric breaks this test instead of silently emptying a dashboard or an alert.
// promtool is required (CI installs Debian's prometheus package): a missing one fails, not skips.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PROMETHEUS_FILES_DIR, withHttpDiscovery } from './prometheus-config.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../stack/cli/streamedge.js', import.meta.url));
const METRICS_SOURCES = ['edge/edge-metrics.ts', 'origin/origin-metrics.ts', 'balancer/balancer-metrics.ts', 'origin/live/live-metrics.ts'].map((file) =>
  fileURLToPath(new URL(`../../../${file}`, import.meta.url)),
);
/** Series Prometheus makes itself for every target. */
const BUILT_IN = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added']);
const PROMQL_OPERATORS = new Set(['and', 'or', 'unless', 'bool', 'offset']);

async function promtool(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd: PROMETHEUS_FILES_DIR });
    return stdout + stderr;
  } catch (error) {
    const failure = error as { code?: string; stdout?: string; stderr?: string; message: string };
    if (failure.code === 'ENOENT') assert.fail('promtool is not installed: apt-get install --no-install-recommends prometheus');
    assert.fail(`promtool ${args.join(' ')} failed:\n${failure.stdout ?? ''}${failure.stderr ?? failure.message}`);
  }
}

async function ruleFiles(): Promise<string[]> {
  return (await readdir(join(PROMETHEUS_FILES_DIR, 'rules'))).filter((name) => name.endsWith('.yml')).sort().map((name) => join('rules', name));
}

const readRules = async (): Promise<string> => (await Promise.all((await ruleFiles()).map((file) => readFile(join(PROMETHEUS_FILES_DIR, file), 'utf8')))).join('\n');

/** Every `expr:` of a rule file, one-line or a `|` block. */
function expressions(yaml: string): string[] {
  const lines = yaml.split('\n');
  const found: string[] = [];
  lines.forEach((line, i) => {
    const match = /^( *)(?:- )?expr: (.*)$/.exec(line);
    if (!match) return;
    if (match[2] !== '|') return void found.push(match[2]!);
    const indent = match[1]!.length;
    const block: string[] = [];
    for (let j = i + 1; j < lines.length && (lines[j]!.trim() === '' || lines[j]!.search(/\S/) > indent); j++) block.push(lines[j]!);
    found.push(block.join('\n'));
  });
  return found;
}

/** The series names a PromQL expression reads (not functions, keywords, labels or strings). */
function seriesNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  return [...stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(?!\s*\()(?![a-zA-Z0-9_:])/g)]
    .map((match) => match[0])
    .filter((name) => !PROMQL_OPERATORS.has(name));
}

async function exportedMetricNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const file of METRICS_SOURCES) {
    for (const match of (await readFile(file, 'utf8')).matchAll(/\bname: '([a-zA-Z_:][a-zA-Z0-9_:]*)'/g)) names.add(match[1]!);
  }
  return names;
}

/** Names a rule reads that are neither exported, built in, nor recorded by another rule. */
function unknownSeries(exprs: readonly string[], exported: ReadonlySet<string>, recorded: ReadonlySet<string>): string[] {
  const known = (name: string): boolean =>
    BUILT_IN.has(name) || recorded.has(name) || exported.has(name) || exported.has(name.replace(/_(bucket|sum|count)$/, ''));
  return [...new Set(exprs.flatMap(seriesNames))].filter((name) => !known(name));
}

test('promtool is installed', async () => {
  assert.match(await promtool('--version'), /promtool, version/);
});

test('promtool check rules accepts every rule file', async () => {
  const files = await ruleFiles();
  assert.ok(files.length >= 2, `rule files: ${files.join(', ')}`);
  const output = await promtool('check', 'rules', ...files);
  assert.equal(output.match(/SUCCESS/g)?.length, files.length, output);
});

test('promtool test rules: every alert fires and stays quiet when it should', async () => {
  const tests = (await readdir(join(PROMETHEUS_FILES_DIR, 'tests'))).filter((name) => name.endsWith('.test.yml')).map((name) => join('tests', name));
  const output = await promtool('test', 'rules', ...tests);
  assert.match(output, /SUCCESS/, output);
  assert.doesNotMatch(output, /FAILED/, output);
  // Each alert has at least one case where it is expected to fire.
  const testText = (await Promise.all(tests.map((file) => readFile(join(PROMETHEUS_FILES_DIR, file), 'utf8')))).join('\n');
  const alerts = [...(await readRules()).matchAll(/^\s*- alert: (\S+)$/gm)].map((match) => match[1]!);
  assert.ok(alerts.length >= 6, `alerts: ${alerts.join(', ')}`);
  for (const alert of alerts) {
    assert.match(testText, new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`), `no promtool test expects ${alert} to fire`);
  }
});

test('promtool check config accepts the scrape configuration (with http_sd where Consul SD is not built in)', async (t) => {
  await promtool('--version');
  const shipped = await readFile(join(PROMETHEUS_FILES_DIR, 'prometheus.yml'), 'utf8');
  const dir = await mkdtemp(join(tmpdir(), 'streamedge-prometheus-config-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await symlink(join(PROMETHEUS_FILES_DIR, 'rules'), join(dir, 'rules'));
  await writeFile(join(dir, 'streamedge-balancers.json'), JSON.stringify([{ targets: ['127.0.0.1:8080'], labels: { id: 'balancer' } }]));
  await writeFile(join(dir, 'streamedge-live.json'), JSON.stringify([{ targets: ['127.0.0.1:9464'], labels: { id: 'channel-1' } }]));
  const check = async (text: string): Promise<string> => {
    await writeFile(join(dir, 'prometheus.yml'), text);
    return run('promtool', ['check', 'config', join(dir, 'prometheus.yml')]).then(
      ({ stdout, stderr }) => stdout + stderr,
      (error: { stdout?: string; stderr?: string }) => `FAILED ${error.stdout ?? ''}${error.stderr ?? ''}`,
    );
  };
  const direct = await check(shipped);
  // Debian's build (bookworm, 2.42) leaves Consul discovery out; that is the only failure allowed.
  if (direct.startsWith('FAILED')) assert.match(direct, /field consul_sd_configs not found/, direct);
  else assert.match(direct, /SUCCESS/, direct);
  // What Debian's Prometheus runs instead: the local --metrics loop, and a fleet's configuration.
  const local = withHttpDiscovery(shipped, { targetsUrl: (service) => `http://127.0.0.1:9/targets/${service}`, refreshInterval: '1s', interval: '1s' });
  const { stdout: fleet } = await run(process.execPath, [CLI, 'consul-targets', '--print-config']);
  assert.match(fleet, /url: http:\/\/127\.0\.0\.1:9500\/targets\/streamedge-edge\n/);
  for (const derived of [await check(local), await check(fleet)]) {
    assert.match(derived, /SUCCESS: .*prometheus\.yml is valid/, derived);
    assert.match(derived, /SUCCESS: \d+ rules found/, derived);
    assert.doesNotMatch(derived, /FAILED|WARNING/, derived);
  }
});

test('every series a rule reads is exported by a service (or made by Prometheus or another rule)', async () => {
  const rules = await readRules();
  const recorded = new Set([...rules.matchAll(/^\s*- record: (\S+)$/gm)].map((match) => match[1]!));
  const exprs = expressions(rules);
  assert.ok(exprs.length >= recorded.size + 6, `found ${exprs.length} expressions`);
  const exported = await exportedMetricNames();
  assert.ok(exported.has('streamedge_edge_responses_total') && exported.has('streamedge_balancer_consul_reachable'), [...exported].join(', '));
  assert.deepEqual(unknownSeries(exprs, exported, recorded), []);
  // The check itself notices a renamed metric, a histogram series and an unrecorded rule name.
  assert.deepEqual(
    unknownSeries(['sum by (id) (rate(streamedge_edge_gone_total{cache_status="hit"}[5m])) / on (id) missing:rule:rate5m'], exported, recorded),
    ['streamedge_edge_gone_total', 'missing:rule:rate5m'],
  );
  assert.deepEqual(seriesNames('histogram_quantile(0.99, sum by (le) (rate(a_bucket[5m]))) > bool 1 and up'), ['a_bucket', 'up']);
});
