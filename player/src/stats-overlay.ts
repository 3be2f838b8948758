import type { EdgeChange, QoeSnapshot } from '../shared/qoe-snapshot.js';
import { formatBitrate, formatClock, formatMilliseconds, formatSeconds } from './format.js';

interface StatField {
  readonly key: string;
  readonly label: string;
  readonly value: (stats: QoeSnapshot) => string;
}

const FIELDS: readonly StatField[] = [
  { key: 'edge', label: 'Edge', value: (s) => s.servedBy ?? '—' },
  { key: 'pathway', label: 'Pathway', value: (s) => s.pathway ?? (s.route === 'steering' ? '—' : 'none') },
  { key: 'route', label: 'Route', value: (s) => s.route ?? '—' },
  { key: 'state', label: 'State', value: (s) => s.state },
  { key: 'cache', label: 'Cache hit / miss', value: (s) => `${s.cache.hits} / ${s.cache.misses}` + (s.cache.unknown ? ` (+${s.cache.unknown} ?)` : '') },
  { key: 'level', label: 'Level', value: (s) => (s.level ? `${s.level.height ? `${s.level.height}p` : `#${s.level.index}`} · ${formatBitrate(s.level.bitrateBps)}` : '—') },
  { key: 'bandwidth', label: 'Bandwidth estimate', value: (s) => formatBitrate(s.bandwidthEstimateBps) },
  { key: 'buffer', label: 'Buffer ahead', value: (s) => formatSeconds(s.bufferAheadS) },
  { key: 'latency', label: 'Live latency / target', value: (s) => (s.live ? `${formatSeconds(s.live.latencyS)} / ${s.live.targetLatencyS === null ? '—' : formatSeconds(s.live.targetLatencyS)}` : '—') },
  { key: 'rate', label: 'Playback rate', value: (s) => (s.live ? `${s.live.playbackRate.toFixed(2)}×` : '—') },
  { key: 'low-latency', label: 'Low-Latency HLS', value: (s) => (s.live ? (s.live.lowLatency ? 'yes (parts)' : 'no') : '—') },
  { key: 'startup', label: 'Startup', value: (s) => formatMilliseconds(s.stalls.startupMs) },
  { key: 'stalls', label: 'Stalls', value: (s) => `${s.stalls.count} · ${formatMilliseconds(s.stalls.totalMs)}` },
  { key: 'dropped', label: 'Dropped frames', value: (s) => `${s.frames.dropped} / ${s.frames.total}` },
  { key: 'fragments', label: 'Fragments ok / failed', value: (s) => `${s.fragments.loaded} / ${s.fragments.failed}` },
  // The first entry is the initial pathway, not a change.
  { key: 'pathway-changes', label: 'Pathway changes', value: (s) => String(s.pathwayChanges.filter((change) => change.from !== null).length) },
];

function describeChange(kind: string, change: EdgeChange): string {
  return `${formatClock(change.atMs)} ${kind}: ${change.from ?? 'start'} → ${change.to}`;
}

/** Renders snapshots into the stats panel and the change log; builds its rows once. */
export class StatsOverlay {
  readonly #values = new Map<string, HTMLElement>();
  readonly #log: HTMLOListElement;
  readonly #error: HTMLElement;
  #logged = '';

  constructor(list: HTMLDListElement, log: HTMLOListElement, error: HTMLElement) {
    for (const field of FIELDS) {
      const term = document.createElement('dt');
      term.textContent = field.label;
      const value = document.createElement('dd');
      value.dataset.stat = field.key;
      value.textContent = '—';
      list.append(term, value);
      this.#values.set(field.key, value);
    }
    this.#log = log;
    this.#error = error;
  }

  render(stats: QoeSnapshot): void {
    for (const field of FIELDS) {
      const element = this.#values.get(field.key)!;
      const text = field.value(stats);
      if (element.textContent !== text) element.textContent = text;
    }
    this.#renderLog(stats);
    const error = stats.fatalError ? `Playback failed: ${stats.fatalError}` : '';
    if (this.#error.textContent !== error) this.#error.textContent = error;
  }

  #renderLog(stats: QoeSnapshot): void {
    const entries = [
      ...stats.edgeChanges.map((change) => ({ atMs: change.atMs, text: describeChange('edge', change) })),
      ...stats.pathwayChanges.map((change) => ({ atMs: change.atMs, text: describeChange('pathway', change) })),
      ...stats.errors.map((error) => ({ atMs: error.atMs, text: `${formatClock(error.atMs)} ${error.fatal ? 'fatal ' : ''}${error.details}` })),
    ].sort((a, b) => b.atMs - a.atMs);
    const key = entries.map((entry) => entry.text).join('\n');
    if (key === this.#logged) return;
    this.#logged = key;
    this.#log.replaceChildren(
      ...entries.slice(0, 12).map((entry) => {
        const item = document.createElement('li');
        item.textContent = entry.text;
        return item;
      }),
    );
  }
}
