// Small inline-SVG charts for the benchmark report: pure functions from numbers to markup, so the
// report needs no charting dependency and the charts are unit-tested.

const WIDTH = 760;
const MARGIN = { right: 20, bottom: 56, left: 72 };
const PLOT_WIDTH = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_HEIGHT = 240;
const LEGEND_ITEM_WIDTH = 222;
const LEGEND_PER_ROW = Math.floor(PLOT_WIDTH / LEGEND_ITEM_WIDTH);

/** The plot's top edge and the chart's height: the legend above the plot wraps onto as many rows as it needs. */
interface Layout {
  readonly top: number;
  readonly height: number;
}

function layoutFor(legendItems: number): Layout {
  const top = 34 + Math.ceil(legendItems / LEGEND_PER_ROW) * 16;
  return { top, height: top + PLOT_HEIGHT + MARGIN.bottom };
}
/** Colour-blind-safe (Okabe–Ito), in series order. */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

/** Series past the palette's length reuse its colours, drawn dashed (lines) and hollow in the legend, so no two look alike. */
function secondRound(index: number): boolean {
  return Math.floor(index / PALETTE.length) % 2 === 1;
}

export type Scale = 'linear' | 'log';

export interface BarSeries {
  readonly name: string;
  /** One value per group, in the order of `groups`. */
  readonly values: readonly number[];
}

export interface GroupedBarChart {
  readonly title: string;
  readonly groups: readonly string[];
  readonly series: readonly BarSeries[];
  readonly unit: string;
  readonly scale?: Scale;
  /** A horizontal line across the plot, e.g. an ideal or a target. */
  readonly reference?: { readonly value: number; readonly label: string };
}

export interface LineSeries {
  readonly name: string;
  readonly points: readonly (readonly [x: number, y: number])[];
}

/** A stretch of the x axis shaded behind the lines, e.g. the time a fault was in. */
export interface XBand {
  readonly from: number;
  readonly to: number;
  readonly label: string;
}

/** A dashed vertical line across the plot, e.g. where a warm-up ends. */
export interface XMarker {
  readonly at: number;
  readonly label: string;
}

export interface LineChart {
  readonly title: string;
  readonly xUnit: string;
  readonly yUnit: string;
  readonly series: readonly LineSeries[];
  readonly bands?: readonly XBand[];
  readonly markers?: readonly XMarker[];
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** A short label: 1234567 → "1.23M", 0.00123 → "0.00123". */
export function formatNumber(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude >= 1e9) return `${+(value / 1e9).toPrecision(3)}G`;
  if (magnitude >= 1e6) return `${+(value / 1e6).toPrecision(3)}M`;
  if (magnitude >= 1e4) return `${+(value / 1e3).toPrecision(3)}k`;
  return String(+value.toPrecision(3));
}

/** Round tick values (1, 2 or 5 × 10^n steps) from 0 up to at least `max`. */
export function linearTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((factor) => factor * power).find((candidate) => candidate >= rough)!;
  const ticks: number[] = [];
  for (let tick = 0; tick < max + step / 2; tick += step) ticks.push(+tick.toPrecision(12));
  if (ticks.at(-1)! < max) ticks.push(+(ticks.at(-1)! + step).toPrecision(12));
  return ticks;
}

/** Powers of ten from at or below the smallest positive value to at or above the largest. */
export function logTicks(minPositive: number, max: number): number[] {
  if (!(minPositive > 0) || !(max >= minPositive)) throw new RangeError(`logTicks: need 0 < min ≤ max, got ${minPositive}, ${max}`);
  const low = Math.floor(Math.log10(minPositive));
  const high = Math.max(low + 1, Math.ceil(Math.log10(max)));
  return Array.from({ length: high - low + 1 }, (_, index) => +(10 ** (low + index)).toPrecision(12));
}

function checkValues(where: string, values: readonly number[]): void {
  for (const value of values) if (!Number.isFinite(value) || value < 0) throw new RangeError(`${where}: values must be finite and ≥ 0, got ${value}`);
}

/** Maps a value to a y pixel within the plot, for the given ticks and scale. */
function yMapper(layout: Layout, ticks: readonly number[], scale: Scale): (value: number) => number {
  const top = ticks.at(-1)!;
  const bottom = ticks[0]!;
  if (scale === 'log') {
    const [low, high] = [Math.log10(bottom), Math.log10(top)];
    return (value) => layout.top + PLOT_HEIGHT - (value <= 0 ? 0 : ((Math.log10(Math.max(value, bottom)) - low) / (high - low)) * PLOT_HEIGHT);
  }
  return (value) => layout.top + PLOT_HEIGHT - ((value - bottom) / (top - bottom)) * PLOT_HEIGHT;
}

function frame(layout: Layout, title: string, body: string[], legend: readonly string[]): string {
  const legendItems = legend.map((name, index) => {
    const x = MARGIN.left + (index % LEGEND_PER_ROW) * LEGEND_ITEM_WIDTH;
    const y = 28 + Math.floor(index / LEGEND_PER_ROW) * 16;
    const colour = PALETTE[index % PALETTE.length];
    const swatch = secondRound(index) ? `fill="#fff" stroke="${colour}" stroke-width="2"` : `fill="${colour}"`;
    return `<rect x="${x}" y="${y}" width="10" height="10" ${swatch}/><text x="${x + 14}" y="${y + 9}" font-size="11">${escapeXml(name)}</text>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${layout.height}" width="${WIDTH}" height="${layout.height}" font-family="sans-serif" role="img" aria-label="${escapeXml(title)}">`,
    `<rect width="${WIDTH}" height="${layout.height}" fill="#fff"/>`,
    `<text x="${MARGIN.left}" y="18" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    ...legendItems,
    ...body,
    '</svg>',
  ].join('\n');
}

function yAxis(layout: Layout, ticks: readonly number[], y: (value: number) => number, unit: string): string[] {
  return [
    ...ticks.map((tick) => {
      const position = y(tick).toFixed(1);
      return `<line x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_WIDTH}" y1="${position}" y2="${position}" stroke="#ddd"/><text x="${MARGIN.left - 6}" y="${position}" font-size="11" text-anchor="end" dominant-baseline="middle">${formatNumber(tick)}</text>`;
    }),
    `<text transform="translate(14 ${layout.top + PLOT_HEIGHT / 2}) rotate(-90)" font-size="11" text-anchor="middle">${escapeXml(unit)}</text>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${layout.top}" y2="${layout.top + PLOT_HEIGHT}" stroke="#333"/>`,
  ];
}

/** Bars side by side per group (e.g. per object size), one colour per series (e.g. per peer). */
export function groupedBarChartSvg(chart: GroupedBarChart): string {
  if (chart.groups.length === 0 || chart.series.length === 0) throw new RangeError(`${chart.title}: a bar chart needs at least one group and one series`);
  for (const series of chart.series) {
    if (series.values.length !== chart.groups.length) throw new RangeError(`${chart.title}: series ${series.name} has ${series.values.length} values for ${chart.groups.length} groups`);
    checkValues(chart.title, series.values);
  }
  const scale = chart.scale ?? 'linear';
  const all = [...chart.series.flatMap((series) => series.values), ...(chart.reference ? [chart.reference.value] : [])];
  const positive = all.filter((value) => value > 0);
  // A log axis spans the positive values only (a zero draws no bar); all zeros fall back to 1–10.
  const ticks = scale === 'log' ? logTicks(positive.length > 0 ? Math.min(...positive) : 1, positive.length > 0 ? Math.max(...positive) : 1) : linearTicks(Math.max(...all));
  const layout = layoutFor(chart.series.length);
  const y = yMapper(layout, ticks, scale);
  const groupWidth = PLOT_WIDTH / chart.groups.length;
  const barWidth = (groupWidth * 0.8) / chart.series.length;
  const body = yAxis(layout, ticks, y, chart.unit);
  chart.groups.forEach((group, groupIndex) => {
    const groupX = MARGIN.left + groupIndex * groupWidth;
    chart.series.forEach((series, seriesIndex) => {
      const value = series.values[groupIndex]!;
      const top = y(value);
      const x = groupX + groupWidth * 0.1 + seriesIndex * barWidth;
      body.push(
        `<rect class="bar" x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(layout.top + PLOT_HEIGHT - top).toFixed(1)}" fill="${PALETTE[seriesIndex % PALETTE.length]}"><title>${escapeXml(`${series.name}, ${group}: ${formatNumber(value)} ${chart.unit}`)}</title></rect>`,
      );
    });
    body.push(`<text x="${(groupX + groupWidth / 2).toFixed(1)}" y="${layout.top + PLOT_HEIGHT + 18}" font-size="12" text-anchor="middle">${escapeXml(group)}</text>`);
  });
  if (chart.reference) {
    const position = y(chart.reference.value).toFixed(1);
    body.push(
      `<line class="reference" x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_WIDTH}" y1="${position}" y2="${position}" stroke="#c00" stroke-dasharray="6 4"/>`,
      `<text x="${MARGIN.left + PLOT_WIDTH}" y="${Number(position) - 4}" font-size="11" fill="#c00" text-anchor="end">${escapeXml(chart.reference.label)}</text>`,
    );
  }
  body.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_WIDTH}" y1="${layout.top + PLOT_HEIGHT}" y2="${layout.top + PLOT_HEIGHT}" stroke="#333"/>`);
  if (scale === 'log') body.push(`<text x="${MARGIN.left + PLOT_WIDTH}" y="${layout.height - 8}" font-size="10" text-anchor="end" fill="#666">log scale</text>`);
  return frame(layout, chart.title, body, chart.series.map((series) => series.name));
}

/**
 * One line per series over a shared x axis (e.g. RSS per process over the seconds of a run), with
 * shaded bands (e.g. fault windows) and marked instants behind the lines.
 */
export function lineChartSvg(chart: LineChart): string {
  const points = chart.series.flatMap((series) => series.points);
  if (points.length === 0) throw new RangeError(`${chart.title}: a line chart needs at least one point`);
  for (const series of chart.series) {
    checkValues(`${chart.title} (${series.name} x)`, series.points.map(([x]) => x));
    checkValues(`${chart.title} (${series.name} y)`, series.points.map(([, value]) => value));
  }
  const bands = chart.bands ?? [];
  const markers = chart.markers ?? [];
  for (const band of bands) {
    checkValues(`${chart.title} (band ${band.label})`, [band.from, band.to]);
    if (band.to < band.from) throw new RangeError(`${chart.title}: band ${band.label} ends (${band.to}) before it starts (${band.from})`);
  }
  checkValues(`${chart.title} (markers)`, markers.map((marker) => marker.at));
  const xMax = Math.max(...points.map(([x]) => x), ...bands.map((band) => band.to), ...markers.map((marker) => marker.at));
  const xTicks = linearTicks(xMax, 8);
  const yTicks = linearTicks(Math.max(...points.map(([, value]) => value)));
  const layout = layoutFor(chart.series.length);
  const y = yMapper(layout, yTicks, 'linear');
  const x = (value: number): number => MARGIN.left + (value / xTicks.at(-1)!) * PLOT_WIDTH;
  const body = yAxis(layout, yTicks, y, chart.yUnit);
  for (const tick of xTicks) {
    body.push(`<text x="${x(tick).toFixed(1)}" y="${layout.top + PLOT_HEIGHT + 16}" font-size="11" text-anchor="middle">${formatNumber(tick)}</text>`);
  }
  body.push(
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + PLOT_WIDTH}" y1="${layout.top + PLOT_HEIGHT}" y2="${layout.top + PLOT_HEIGHT}" stroke="#333"/>`,
    `<text x="${MARGIN.left + PLOT_WIDTH / 2}" y="${layout.height - 12}" font-size="11" text-anchor="middle">${escapeXml(chart.xUnit)}</text>`,
  );
  for (const band of bands) {
    const left = x(band.from);
    body.push(
      `<rect class="band" x="${left.toFixed(1)}" y="${layout.top}" width="${Math.max(1, x(band.to) - left).toFixed(1)}" height="${PLOT_HEIGHT}" fill="#D55E00" fill-opacity="0.15"><title>${escapeXml(`${band.label}: ${formatNumber(band.from)}–${formatNumber(band.to)} ${chart.xUnit}`)}</title></rect>`,
      `<text x="${(left + 2).toFixed(1)}" y="${layout.top + 11}" font-size="10" fill="#A03800">${escapeXml(band.label)}</text>`,
    );
  }
  for (const marker of markers) {
    const position = x(marker.at).toFixed(1);
    body.push(
      `<line class="marker" x1="${position}" x2="${position}" y1="${layout.top}" y2="${layout.top + PLOT_HEIGHT}" stroke="#666" stroke-dasharray="4 3"/>`,
      `<text x="${position}" y="${layout.top + PLOT_HEIGHT - 4}" font-size="10" fill="#444" transform="rotate(-90 ${position} ${layout.top + PLOT_HEIGHT - 4})" dy="-3">${escapeXml(marker.label)}</text>`,
    );
  }
  chart.series.forEach((series, index) => {
    const path = series.points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ');
    body.push(`<polyline class="line" fill="none" stroke="${PALETTE[index % PALETTE.length]}" stroke-width="1.5"${secondRound(index) ? ' stroke-dasharray="6 3"' : ''} points="${path}"><title>${escapeXml(series.name)}</title></polyline>`);
  });
  return frame(layout, chart.title, body, chart.series.map((series) => series.name));
}
