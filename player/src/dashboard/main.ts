// The operations dashboard: polls the balancer's /dashboard/samples, keeps a bounded ring of counter
// samples (or takes Prometheus's series whole), and draws per-edge charts with uPlot, the edges'
// health in a table and on a region map, and the tiers (shields, where each edge fills, what the
// origins were spared) from the edges' and shields' counters. The state is on
// window.streamedgeDashboard for tests.
import uPlot from 'uplot';
import {
  CHARTS,
  chartDataFromPrometheus,
  chartDataFromRing,
  parseDashboardSamples,
  SampleRing,
  type ChartData,
  type ChartName,
  type DashboardSamples,
  type DashboardState,
  type EdgeSample,
} from '../../shared/dashboard-data.js';
import { tierViewOfRing, UPSTREAM_TIERS, type TierView } from '../../shared/tier-view.js';
import { renderRegionMap } from './region-map.js';

/** One sample every POLL_MS; the ring holds RING_SIZE of them (10 minutes). */
const POLL_MS = 2000;
const RING_SIZE = 300;
/** With Prometheus: the window asked for, and how often. */
const PROMETHEUS_WINDOW_SECONDS = 900;
const PROMETHEUS_POLL_MS = 10_000;
/** The tier view's rates span the newest sample and the oldest one this recent (at least two polls). */
const TIER_WINDOW_MS = 30_000;
const TIER_RING_SIZE = 16;

const EDGE_COLOURS = ['#4fc3f7', '#ffb74d', '#ba68c8', '#81c784', '#f06292', '#fff176', '#4db6ac', '#e57373'];

const CHART_INFO: Record<ChartName, { title: string; unit: (value: number) => string }> = {
  requests: { title: 'Requests per second', unit: (v) => `${v.toFixed(1)} req/s` },
  hitRatio: { title: 'Hit ratio (cacheable responses)', unit: (v) => `${(v * 100).toFixed(0)} %` },
  originBytes: { title: 'Miss bytes per second (filled upstream)', unit: (v) => formatBytes(v) },
  ttfbP99: { title: 'p99 upstream time to headers (shield, sibling or origin)', unit: (v) => `${(v * 1000).toFixed(1)} ms` },
  viewers: { title: 'Viewers (balancer sessions)', unit: (v) => v.toFixed(0) },
};

function formatBytes(bytesPerSecond: number): string {
  const units = ['B/s', 'KB/s', 'MB/s', 'GB/s'];
  let value = bytesPerSecond;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value >= 100 || unit === 0 ? 0 : 1)} ${units[unit]}`;
}

declare global {
  interface Window {
    streamedgeDashboard: DashboardState;
  }
}

const state: DashboardState = {
  source: null,
  polls: 0,
  samples: 0,
  error: null,
  edges: [],
  points: { requests: {}, hitRatio: {}, originBytes: {}, ttfbP99: {}, viewers: {} },
  latest: { requests: {}, hitRatio: {}, originBytes: {}, ttfbP99: {}, viewers: {} },
  tiers: null,
};
window.streamedgeDashboard = state;

const ring = new SampleRing(RING_SIZE);
const tierRing = new SampleRing(TIER_RING_SIZE);
const charts = new Map<ChartName, uPlot>();
let chartedEdges = '';

const byId = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

function colour(index: number): string {
  return EDGE_COLOURS[index % EDGE_COLOURS.length]!;
}

function chartOptions(chart: ChartName, edges: readonly string[], width: number): uPlot.Options {
  const { unit } = CHART_INFO[chart];
  return {
    width,
    height: 200,
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: chart === 'hitRatio' ? { range: [0, 1] } : { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    axes: [
      { stroke: '#9aa5b1', grid: { stroke: '#243040' }, ticks: { stroke: '#243040' } },
      { stroke: '#9aa5b1', grid: { stroke: '#243040' }, ticks: { stroke: '#243040' }, size: 90, values: (_u, splits) => splits.map((v) => unit(v)) },
    ],
    series: [{}, ...edges.map((id, index) => ({ label: id, stroke: colour(index), width: 2, spanGaps: false, value: (_u: uPlot, v: number | null) => (v === null ? '–' : unit(v)) }))],
  };
}

function drawCharts(data: ChartData): void {
  const container = byId<HTMLElement>('charts');
  const key = data.edges.join(',');
  if (key !== chartedEdges) {
    for (const plot of charts.values()) plot.destroy();
    charts.clear();
    container.replaceChildren();
    chartedEdges = key;
    for (const chart of CHARTS) {
      const panel = document.createElement('div');
      panel.className = 'chart';
      panel.dataset.chart = chart;
      const title = document.createElement('h2');
      title.textContent = CHART_INFO[chart].title;
      panel.append(title);
      container.append(panel);
      const width = Math.max(320, panel.clientWidth - 16);
      charts.set(chart, new uPlot(chartOptions(chart, data.edges, width), [data.times, ...data.values[chart]] as uPlot.AlignedData, panel));
    }
    return;
  }
  for (const chart of CHARTS) charts.get(chart)!.setData([data.times, ...data.values[chart]] as uPlot.AlignedData);
}

function recordState(data: ChartData): void {
  for (const chart of CHARTS) {
    state.points[chart] = {};
    state.latest[chart] = {};
    data.edges.forEach((id, row) => {
      const values = data.values[chart][row]!;
      state.points[chart][id] = values.filter((value) => value !== null).length;
      state.latest[chart][id] = [...values].reverse().find((value) => value !== null) ?? null;
    });
  }
}

function renderTable(edges: readonly EdgeSample[], data: ChartData): void {
  const body = byId<HTMLTableElement>('edge-table').tBodies[0]!;
  body.replaceChildren(
    ...edges.map((edge) => {
      const row = document.createElement('tr');
      row.dataset.edge = edge.id;
      const cell = (text: string, className?: string): HTMLTableCellElement => {
        const td = document.createElement('td');
        td.textContent = text;
        if (className) td.className = className;
        row.append(td);
        return td;
      };
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = colour(data.edges.indexOf(edge.id));
      cell(edge.id).prepend(swatch);
      cell(edge.region);
      cell(edge.health, `health health-${edge.health}`);
      cell(String(edge.activeSessions), 'number');
      const requests = state.latest.requests[edge.id];
      const hitRatio = state.latest.hitRatio[edge.id];
      cell(requests == null ? '–' : requests.toFixed(1), 'number');
      cell(hitRatio == null ? '–' : `${(hitRatio * 100).toFixed(0)} %`, 'number');
      cell(edge.error ?? (state.source === 'prometheus' ? 'Prometheus' : 'ok'));
      return row;
    }),
  );
}

const percent = (value: number | null): string => (value === null ? '–' : `${(value * 100).toFixed(0)} %`);
const perSecond = (value: number | null): string => (value === null ? '–' : value.toFixed(1));

function tableRow(id: string, cells: readonly (readonly [text: string, className?: string])[]): HTMLTableRowElement {
  const row = document.createElement('tr');
  row.dataset.id = id;
  for (const [text, className] of cells) {
    const td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    row.append(td);
  }
  return row;
}

function renderTiers(view: TierView | null): void {
  byId('tier-window').textContent = view ? `(rates over the last ${view.seconds.toFixed(0)} s)` : '';
  const saving = byId('fleet-saving');
  const fleet = view?.fleet;
  if (!fleet || fleet.edgeUpstream === null) {
    saving.textContent = view ? 'no edge counters yet' : 'waiting for two samples…';
  } else {
    const figure = document.createElement('b');
    figure.textContent = percent(fleet.saved);
    saving.replaceChildren(
      `Edges asked upstream ${perSecond(fleet.edgeUpstream)} fills/s; the origins got ${perSecond(fleet.origin)} req/s: the shield tier kept `,
      figure,
      ' of the edges’ fills from the origins.',
    );
  }
  byId<HTMLTableElement>('shield-table').tBodies[0]!.replaceChildren(
    ...(view?.shields ?? []).map((shield) =>
      tableRow(shield.id, [
        [shield.id],
        [shield.region],
        [shield.health, `health health-${shield.health === 'passing' ? 'healthy' : 'unknown'}`],
        [perSecond(shield.requests), 'number'],
        [percent(shield.hitRatio), 'number'],
        [percent(shield.originOffload), 'number'],
      ]),
    ),
  );
  byId<HTMLTableElement>('tier-table').tBodies[0]!.replaceChildren(
    ...(view?.edges ?? []).map((edge) =>
      tableRow(edge.id, [
        [edge.id],
        [edge.region],
        [edge.fillsFrom ?? '–'],
        ...UPSTREAM_TIERS.map((tier): [string, string] => [
          `${perSecond(edge.requests[tier])} req/s · ${edge.bytes[tier] === null ? '–' : formatBytes(edge.bytes[tier]!)}`,
          edge.fillsFrom === tier ? 'number tier-current' : 'number',
        ]),
      ]),
    ),
  );
}

function show(answer: DashboardSamples): void {
  let data: ChartData;
  if (answer.source === 'metrics') {
    ring.push(answer);
    data = chartDataFromRing(ring.items);
    state.samples = ring.items.length;
  } else {
    data = chartDataFromPrometheus(answer);
    state.samples = data.times.length;
  }
  state.source = answer.source;
  state.edges = answer.edges.map((edge) => ({ id: edge.id, region: edge.region, health: edge.health, activeSessions: edge.activeSessions, error: edge.error ?? null }));
  recordState(data);
  byId('source').textContent =
    answer.source === 'metrics'
      ? `each edge's /metrics through the balancer, every ${POLL_MS / 1000} s (${ring.items.length} samples)`
      : `Prometheus recording rules, last ${PROMETHEUS_WINDOW_SECONDS / 60} min, step ${answer.range.step} s`;
  const failed = answer.source === 'prometheus' ? Object.entries(answer.errors).map(([chart, error]) => `${chart}: ${error}`) : [];
  setStatus(failed.length ? `query failed: ${failed.join('; ')}` : `updated ${new Date(answer.at).toLocaleTimeString()}`, failed.length > 0);
  tierRing.push(answer.source === 'metrics' ? answer : answer.scraped);
  state.tiers = tierViewOfRing(tierRing.items, TIER_WINDOW_MS);
  drawCharts(data);
  renderTable(answer.edges, data);
  renderTiers(state.tiers);
  renderRegionMap(byId<HTMLElement>('region-map') as unknown as SVGSVGElement, answer.edges);
}

function setStatus(text: string, error = false): void {
  const status = byId('status');
  status.textContent = text;
  status.classList.toggle('error', error);
}

async function poll(): Promise<void> {
  let delay = POLL_MS;
  try {
    const query = state.source === 'prometheus' ? `?window=${PROMETHEUS_WINDOW_SECONDS}` : '';
    const response = await fetch(`dashboard/samples${query}`, { cache: 'no-store' });
    if (!response.ok) throw new Error(`/dashboard/samples answered ${response.status}: ${(await response.text()).trim()}`);
    const answer = parseDashboardSamples(await response.json());
    state.polls++;
    state.error = null;
    show(answer);
    if (answer.source === 'prometheus') delay = PROMETHEUS_POLL_MS;
  } catch (error) {
    state.error = (error as Error).message;
    setStatus(state.error, true);
  }
  setTimeout(() => void poll(), delay);
}

void poll();
