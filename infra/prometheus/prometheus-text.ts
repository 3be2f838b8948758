// Reads the Prometheus text exposition format (version 0.0.4) that every streamedge service answers
// at /metrics, for the code that scrapes a service itself rather than asking a Prometheus: the
// balancer's dashboard samples and the benchmarks. Comments and malformed lines are skipped.

export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;
const LABEL_PAIR = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/y;

function unescapeLabelValue(value: string): string {
  return value.replace(/\\(.)/g, (_, char: string) => (char === 'n' ? '\n' : char));
}

function parseLabels(text: string): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  LABEL_PAIR.lastIndex = 0;
  while (LABEL_PAIR.lastIndex < text.length) {
    const match = LABEL_PAIR.exec(text);
    if (!match) return text.slice(LABEL_PAIR.lastIndex).trim() === '' ? labels : undefined;
    labels[match[1]!] = unescapeLabelValue(match[2]!);
  }
  return labels;
}

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/** Every sample line of an exposition, with its labels unescaped; `NaN`, `+Inf` and `-Inf` are numbers. */
export function parsePrometheusText(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE_LINE.exec(line);
    if (!match) continue;
    const labels = parseLabels(match[2] ?? '');
    const value = parseValue(match[3]!);
    if (!labels || (Number.isNaN(value) && match[3] !== 'NaN')) continue;
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** True when the sample carries every given label value (a string), or one matching it (a RegExp). */
export function hasLabels(sample: MetricSample, labels: Readonly<Record<string, string | RegExp>>): boolean {
  return Object.entries(labels).every(([key, wanted]) => {
    const value = sample.labels[key];
    if (value === undefined) return false;
    return typeof wanted === 'string' ? value === wanted : wanted.test(value);
  });
}

/** The sum of one metric's samples whose labels match, e.g. requests with kind="vod-segment". */
export function sumSamples(samples: readonly MetricSample[], name: string, labels: Readonly<Record<string, string | RegExp>> = {}): number {
  let total = 0;
  for (const sample of samples) if (sample.name === name && hasLabels(sample, labels)) total += sample.value;
  return total;
}

/** `sumSamples` over an exposition's text. */
export function sumMetric(text: string, name: string, labels: Readonly<Record<string, string | RegExp>> = {}): number {
  return sumSamples(parsePrometheusText(text), name, labels);
}
