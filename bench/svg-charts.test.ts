import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeXml, formatNumber, groupedBarChartSvg, lineChartSvg, linearTicks, logTicks } from './svg-charts.js';

function bars(svg: string): { y: number; height: number; fill: string; title: string }[] {
  return [...svg.matchAll(/<rect class="bar" x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)" fill="([^"]+)"><title>([^<]*)<\/title>/g)].map((match) => ({
    y: Number(match[1]),
    height: Number(match[2]),
    fill: match[3]!,
    title: match[4]!,
  }));
}

describe('svg charts', () => {
  it('picks round linear ticks from zero that cover the maximum', () => {
    assert.deepEqual(linearTicks(9), [0, 2, 4, 6, 8, 10]);
    assert.deepEqual(linearTicks(1234), [0, 500, 1000, 1500]);
    assert.deepEqual(linearTicks(0), [0, 1]);
  });

  it('picks powers of ten around the data on a log scale, and refuses a non-positive minimum', () => {
    assert.deepEqual(logTicks(0.7, 230), [0.1, 1, 10, 100, 1000]);
    assert.deepEqual(logTicks(5, 5), [1, 10]);
    assert.throws(() => logTicks(0, 10), /0 < min ≤ max/);
  });

  it('formats axis numbers short', () => {
    assert.equal(formatNumber(26726), '26.7k');
    assert.equal(formatNumber(1_500_000), '1.5M');
    assert.equal(formatNumber(0.28), '0.28');
  });

  it('draws one bar per group and series, heights proportional to values, one colour per series', () => {
    const svg = groupedBarChartSvg({
      title: 'Hits',
      groups: ['segment', 'playlist'],
      series: [{ name: 'edge', values: [100, 400] }, { name: 'nginx', values: [200, 300] }],
      unit: 'req/s',
    });
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    const drawn = bars(svg);
    assert.equal(drawn.length, 4);
    // Group-major order: segment edge, segment nginx, playlist edge, playlist nginx.
    assert.deepEqual(drawn.map((bar) => bar.title), ['edge, segment: 100 req/s', 'nginx, segment: 200 req/s', 'edge, playlist: 400 req/s', 'nginx, playlist: 300 req/s']);
    assert.ok(Math.abs(drawn[2]!.height / drawn[0]!.height - 4) < 0.01);
    assert.ok(Math.abs(drawn[1]!.height / drawn[0]!.height - 2) < 0.01);
    assert.equal(drawn[0]!.fill, drawn[2]!.fill);
    assert.notEqual(drawn[0]!.fill, drawn[1]!.fill);
    // Every bar stands on the same baseline.
    assert.equal(new Set(drawn.map((bar) => (bar.y + bar.height).toFixed(0))).size, 1);
    assert.match(svg, />edge<\/text>/);
    assert.match(svg, />nginx<\/text>/);
  });

  it('on a log scale, a ten times larger value is one decade taller', () => {
    const svg = groupedBarChartSvg({ title: 'Latency', groups: ['edge'], series: [{ name: 'p50', values: [1] }, { name: 'p99', values: [10] }, { name: 'max', values: [100] }], unit: 'ms', scale: 'log' });
    const [p50, p99, max] = bars(svg);
    assert.ok(Math.abs(p99!.height - p50!.height - (max!.height - p99!.height)) < 0.2);
    assert.match(svg, /log scale/);
    // The axis spans the data's decades, not from 1.
    const high = groupedBarChartSvg({ title: 'Hits', groups: ['playlist'], series: [{ name: 'edge', values: [8000] }, { name: 'nginx', values: [21000] }], unit: 'req/s', scale: 'log' });
    assert.match(high, />1000<\/text>/);
    assert.doesNotMatch(high, />100<\/text>/);
  });

  it('draws a labelled reference line', () => {
    const svg = groupedBarChartSvg({ title: 'Origin', groups: ['hashing', 'random'], series: [{ name: 'origin MB', values: [10, 25] }], unit: 'MB', reference: { value: 9, label: 'ideal 9 MB' } });
    assert.match(svg, /<line class="reference"/);
    assert.match(svg, /ideal 9 MB/);
  });

  it('escapes names so a label cannot break the markup', () => {
    assert.equal(escapeXml(`<a & "b">`), '&#60;a &#38; &#34;b&#34;&#62;');
    const svg = groupedBarChartSvg({ title: 'x<y', groups: ['a&b'], series: [{ name: '<script>', values: [1] }], unit: 'u' });
    assert.doesNotMatch(svg, /<script>|x<y|a&b/);
  });

  it('rejects inconsistent or invalid data with the chart named', () => {
    assert.throws(() => groupedBarChartSvg({ title: 'T', groups: ['a', 'b'], series: [{ name: 's', values: [1] }], unit: 'u' }), /T: series s has 1 values for 2 groups/);
    assert.throws(() => groupedBarChartSvg({ title: 'T', groups: ['a'], series: [{ name: 's', values: [Number.NaN] }], unit: 'u' }), /T: values must be finite/);
    assert.throws(() => groupedBarChartSvg({ title: 'T', groups: [], series: [], unit: 'u' }), /at least one group and one series/);
    assert.throws(() => lineChartSvg({ title: 'L', xUnit: 's', yUnit: 'MB', series: [] }), /L: a line chart needs at least one point/);
  });

  it('draws one polyline per series with its points mapped onto the axes', () => {
    const svg = lineChartSvg({
      title: 'RSS',
      xUnit: 'seconds',
      yUnit: 'MB',
      series: [{ name: 'edge', points: [[0, 0], [5, 50], [10, 100]] }, { name: 'nginx', points: [[0, 10], [10, 10]] }],
    });
    const lines = [...svg.matchAll(/<polyline class="line" fill="none" stroke="[^"]+" stroke-width="1.5" points="([^"]+)">/g)].map((match) => match[1]!.split(' ').map((pair) => pair.split(',').map(Number)));
    assert.equal(lines.length, 2);
    assert.equal(lines[0]!.length, 3);
    const [[x0, y0], [x1, y1], [x2, y2]] = lines[0]! as [[number, number], [number, number], [number, number]];
    // Evenly spaced points on a straight line stay evenly spaced and straight.
    assert.ok(Math.abs(x1 - x0 - (x2 - x1)) < 0.2 && Math.abs(y1 - y0 - (y2 - y1)) < 0.2);
    assert.ok(y2 < y0, 'larger values are higher up');
    // nginx's flat line is flat.
    assert.equal(lines[1]![0]![1], lines[1]![1]![1]);
  });

  it('shades bands (fault windows) and marks instants across the plot, at their place on the x axis', () => {
    const svg = lineChartSvg({
      title: 'RSS',
      xUnit: 'seconds',
      yUnit: 'MB',
      series: [{ name: 'edge', points: [[0, 10], [80, 10]] }],
      bands: [{ from: 20, to: 30, label: 'edge-kill' }, { from: 50, to: 100, label: 'origin-slow' }],
      markers: [{ at: 40, label: 'warm-up ends' }],
    });
    const bands = [...svg.matchAll(/<rect class="band" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"[^>]*><title>([^<]*)<\/title>/g)].map((match) => ({ x: Number(match[1]), width: Number(match[2]), title: match[3] }));
    assert.equal(bands.length, 2);
    assert.deepEqual(bands.map((band) => band.title), ['edge-kill: 20–30 seconds', 'origin-slow: 50–100 seconds']);
    // A band five times as long is five times as wide; the one ending past the last point widens the axis to hold it.
    assert.ok(Math.abs(bands[1]!.width / bands[0]!.width - 5) < 0.01);
    assert.match(svg, />100<\/text>/);
    const marker = /<line class="marker" x1="([\d.]+)"/.exec(svg);
    assert.ok(marker && Math.abs(Number(marker[1]) - (bands[0]!.x + bands[0]!.width * 2)) < 0.2, 'the marker at 40 s stands one band-width after the first band ends');
    assert.match(svg, />warm-up ends<\/text>/);
    // Bands sit behind the lines.
    assert.ok(svg.indexOf('class="band"') < svg.indexOf('class="line"'));
  });

  it('refuses a band that ends before it starts, with the chart named', () => {
    assert.throws(() => lineChartSvg({ title: 'L', xUnit: 's', yUnit: 'MB', series: [{ name: 'a', points: [[0, 1]] }], bands: [{ from: 5, to: 4, label: 'b' }] }), /L: band b ends \(4\) before it starts \(5\)/);
  });

  it('tells series past the palette apart from those sharing their colour: dashed lines, hollow legend swatches', () => {
    const series = Array.from({ length: 10 }, (_, index) => ({ name: `process ${index}`, points: [[0, index], [1, index]] as [number, number][] }));
    const svg = lineChartSvg({ title: 'RSS', xUnit: 's', yUnit: 'MB', series });
    const lines = [...svg.matchAll(/<polyline class="line" fill="none" stroke="([^"]+)" stroke-width="1.5"( stroke-dasharray="6 3")? /g)];
    assert.equal(lines[8]![1], lines[0]![1]);
    assert.deepEqual(lines.map((line) => line[2] !== undefined), [false, false, false, false, false, false, false, false, true, true]);
    assert.equal(svg.match(/<rect x="[\d.]+" y="[\d.]+" width="10" height="10" fill="#fff" stroke=/g)!.length, 2);
  });

  it('wraps a long legend onto more rows and grows the chart instead of overlapping', () => {
    const series = Array.from({ length: 12 }, (_, index) => ({ name: `process ${index}`, points: [[0, index], [1, index]] as [number, number][] }));
    const height = (svg: string): number => Number(/height="(\d+)"/.exec(svg)![1]);
    assert.ok(height(lineChartSvg({ title: 'RSS', xUnit: 's', yUnit: 'MB', series })) > height(lineChartSvg({ title: 'RSS', xUnit: 's', yUnit: 'MB', series: series.slice(0, 2) })));
  });
});
