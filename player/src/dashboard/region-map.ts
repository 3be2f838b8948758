// The edges on an equirectangular map (x = lon + 180, y = 90 - lat), zoomed to where they are and
// coloured by the balancer's view of their health; edges at one place fan out around it.
import type { EdgeSample } from '../../shared/dashboard-data.js';

const SVG = 'http://www.w3.org/2000/svg';

function element<K extends keyof SVGElementTagNameMap>(name: K, attributes: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

export function renderRegionMap(svg: SVGSVGElement, edges: readonly EdgeSample[]): void {
  const xs = edges.map((edge) => edge.lon + 180);
  const ys = edges.map((edge) => 90 - edge.lat);
  const pad = 25;
  const minX = Math.max(0, Math.min(...xs, 180) - pad);
  const maxX = Math.min(360, Math.max(...xs, 180) + pad);
  const minY = Math.max(0, Math.min(...ys, 90) - pad);
  const maxY = Math.min(180, Math.max(...ys, 90) + pad);
  svg.setAttribute('viewBox', `${minX} ${minY} ${maxX - minX} ${maxY - minY}`);
  svg.replaceChildren();
  for (let lon = -180; lon <= 180; lon += 15) svg.append(element('line', { class: 'graticule', x1: lon + 180, y1: 0, x2: lon + 180, y2: 180 }));
  for (let lat = -90; lat <= 90; lat += 15) svg.append(element('line', { class: 'graticule', x1: 0, y1: 90 - lat, x2: 360, y2: 90 - lat }));

  const places = new Map<string, EdgeSample[]>();
  for (const edge of edges) {
    const key = `${edge.lat},${edge.lon}`;
    places.set(key, [...(places.get(key) ?? []), edge]);
  }
  for (const group of places.values()) {
    const cx = group[0]!.lon + 180;
    const cy = 90 - group[0]!.lat;
    svg.append(element('text', { class: 'region', x: cx, y: cy + 12, 'text-anchor': 'middle' }, group[0]!.region));
    group.forEach((edge, index) => {
      const angle = (2 * Math.PI * index) / group.length - Math.PI / 2;
      const spread = group.length > 1 ? 5 : 0;
      const x = cx + spread * Math.cos(angle);
      const y = cy + spread * Math.sin(angle);
      const dot = element('circle', { class: `edge fill-${edge.health}`, cx: x, cy: y, r: 3, 'data-edge': edge.id, 'data-health': edge.health });
      dot.append(element('title', {}, `${edge.id} (${edge.region}): ${edge.health}`));
      svg.append(dot, element('text', { class: 'label', x: x + 4, y: y - 3 }, edge.id));
    });
  }
}
