import { CatalogError, masterUrlFor, parseCatalog, type CatalogAsset } from '../shared/catalog.js';
import { MasterSourceError, masterUrlFromSource } from '../shared/master-source.js';
import type { QoeSnapshot } from '../shared/qoe-snapshot.js';
import { fillAssetPicker } from './asset-picker.js';
import { PlayerSession } from './player-session.js';
import { QoeCollector } from './qoe-collector.js';
import { StatsOverlay } from './stats-overlay.js';
import { TrackPickers } from './track-pickers.js';

declare global {
  interface Window {
    /** The latest QoE snapshot, refreshed several times a second (read by tests and tooling). */
    streamedgeStats?: QoeSnapshot;
  }
}

// Injected by the build: the hls.js worker file copied beside this bundle.
declare const HLS_WORKER_FILE: string;

const PUBLISH_INTERVAL_MS = 250;

function element<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`player page is missing #${id}`);
  return found;
}

async function fetchCatalog(): Promise<CatalogAsset[]> {
  const response = await fetch(new URL('/catalog.json', location.origin), { headers: { accept: 'application/json' } });
  if (!response.ok) throw new CatalogError(`catalog: the balancer answered ${response.status} ${response.statusText}`);
  return parseCatalog(await response.json());
}

function wireStatsToggle(toggle: HTMLButtonElement, panel: HTMLElement): void {
  toggle.addEventListener('click', () => {
    const show = panel.hidden;
    panel.hidden = !show;
    toggle.setAttribute('aria-expanded', String(show));
    toggle.textContent = show ? 'Hide stats' : 'Show stats';
  });
}

async function main(): Promise<void> {
  const video = element('video', HTMLVideoElement);
  const picker = element('asset', HTMLSelectElement);
  const status = element('status', HTMLElement);
  const collector = new QoeCollector(video);
  const overlay = new StatsOverlay(element('stats-list', HTMLDListElement), element('events', HTMLOListElement), element('playback-error', HTMLElement));
  wireStatsToggle(element('stats-toggle', HTMLButtonElement), element('stats', HTMLElement));

  const publish = (): void => {
    collector.sample();
    const snapshot = collector.snapshot();
    window.streamedgeStats = snapshot;
    overlay.render(snapshot);
  };
  publish();
  setInterval(publish, PUBLISH_INTERVAL_MS);

  if (!PlayerSession.isSupported()) {
    status.textContent = 'This browser lacks Media Source Extensions, which the player needs.';
    return;
  }
  const tracks = new TrackPickers(element('audio-track', HTMLSelectElement), element('subtitle-track', HTMLSelectElement));
  const session = new PlayerSession({
    video,
    collector,
    onHls: (hls) => tracks.attach(hls),
    workerUrl: new URL(HLS_WORKER_FILE, import.meta.url).href,
    debug: new URL(location.href).searchParams.has('debug'),
  });

  // `?src=<master URL>` plays that URL (e.g. a signed one from `streamedge sign`) instead of a title.
  const pageUrl = new URL(location.href);
  const source = pageUrl.searchParams.get('src');
  let sourceUrl: URL | undefined;
  if (source !== null) {
    try {
      sourceUrl = masterUrlFromSource(source, pageUrl);
    } catch (error) {
      status.textContent = error instanceof MasterSourceError ? error.message : `src: ${(error as Error).message}`;
      return;
    }
    const region = pageUrl.searchParams.get('region');
    if (region && !sourceUrl.searchParams.has('region')) sourceUrl.searchParams.set('region', region);
  }

  let assets: CatalogAsset[] = [];
  try {
    status.textContent = 'Loading catalog…';
    assets = await fetchCatalog();
  } catch (error) {
    status.textContent = error instanceof CatalogError ? error.message : `Could not load the catalog: ${(error as Error).message}`;
    if (!sourceUrl) return;
  }

  const play = (asset: CatalogAsset): void => {
    const url = new URL(location.href);
    url.searchParams.delete('src');
    url.searchParams.set('asset', asset.id);
    history.replaceState(null, '', url);
    status.textContent = `Playing ${asset.title}`;
    session.load(asset.id, masterUrlFor(asset, pageUrl).href, asset.kind === 'live');
    publish();
  };

  if (sourceUrl) {
    const { origin, pathname } = sourceUrl;
    const known = origin === location.origin ? assets.find((asset) => asset.path === pathname) : undefined;
    if (assets.length > 0) fillAssetPicker(picker, assets, known?.id ?? '', play);
    status.textContent = `Playing ${known?.title ?? sourceUrl.pathname}`;
    session.load(known?.id ?? sourceUrl.pathname, sourceUrl.href, known ? known.kind === 'live' : sourceUrl.pathname.startsWith('/live/'));
    publish();
    return;
  }
  if (assets.length === 0) {
    status.textContent = 'The catalog is empty.';
    return;
  }
  const requested = assets.find((asset) => asset.id === pageUrl.searchParams.get('asset')) ?? assets[0]!;
  fillAssetPicker(picker, assets, requested.id, play);
  play(requested);
}

void main();
