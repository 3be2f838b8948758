import type { CatalogAsset } from '../shared/catalog.js';

const KIND_LABELS: Readonly<Record<CatalogAsset['kind'], string>> = { vod: 'VOD', live: 'Live' };
const FORMAT_LABELS: Readonly<Record<CatalogAsset['format'], string>> = { ts: 'MPEG-TS', fmp4: 'fMP4' };

/** Fills the asset <select> from the catalog and reports the viewer's choice. */
export function fillAssetPicker(
  select: HTMLSelectElement,
  assets: readonly CatalogAsset[],
  selectedId: string,
  onChoose: (asset: CatalogAsset) => void,
): void {
  select.replaceChildren(
    ...assets.map((asset) => {
      const option = document.createElement('option');
      option.value = asset.id;
      option.textContent = `${asset.title} — ${KIND_LABELS[asset.kind]} · ${FORMAT_LABELS[asset.format]}`;
      option.selected = asset.id === selectedId;
      return option;
    }),
  );
  select.disabled = assets.length === 0;
  select.addEventListener('change', () => {
    const asset = assets.find((candidate) => candidate.id === select.value);
    if (asset) onChoose(asset);
  });
}
