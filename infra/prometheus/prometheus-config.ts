// The shipped scrape configuration finds services with consul_sd_configs, which Debian's prometheus
// package (2.42, bookworm) is built without. This turns it into the same configuration with
// http_sd_configs fed by the Consul targets bridge (consul-targets.ts), which gives each target the
// very `__meta_consul_*` labels Consul discovery would, so the relabelling is the shipped one.
import { fileURLToPath } from 'node:url';

/** infra/prometheus/ in the source tree (prometheus.yml, rules/, tests/), read at run time. */
export const PROMETHEUS_FILES_DIR = fileURLToPath(new URL('../../../infra/prometheus/', import.meta.url));

export interface HttpDiscoveryOptions {
  /** The http_sd URL listing one Consul service's instances. */
  readonly targetsUrl: (service: string) => string;
  /** How often Prometheus asks the bridge again, e.g. "2s". */
  readonly refreshInterval: string;
  /** Replace the global scrape and rule evaluation intervals (e.g. "1s" for a fast local loop). */
  readonly interval?: string;
}

const CONSUL_SD = /^( *)consul_sd_configs:\n( *)- server: \S+\n +services: \[([\w-]+)\]\n/gm;
const GLOBAL_INTERVAL = /^( {2})(scrape_interval|evaluation_interval): \S+$/gm;
const DURATION = /^\d+(ms|s|m|h)$/;

export function withHttpDiscovery(configText: string, options: HttpDiscoveryOptions): string {
  if (!DURATION.test(options.refreshInterval)) throw new TypeError(`refreshInterval must be a Prometheus duration such as 2s, got "${options.refreshInterval}"`);
  if (options.interval !== undefined && !DURATION.test(options.interval)) throw new TypeError(`interval must be a Prometheus duration such as 1s, got "${options.interval}"`);
  let replaced = 0;
  let text = configText.replace(CONSUL_SD, (_, indent: string, itemIndent: string, service: string) => {
    replaced++;
    return `${indent}http_sd_configs:\n${itemIndent}- url: ${options.targetsUrl(service)}\n${itemIndent}  refresh_interval: ${options.refreshInterval}\n`;
  });
  if (replaced === 0 || /^ *consul_sd_configs:/m.test(text)) {
    throw new Error('prometheus config: expected every consul_sd_configs entry as "- server: …" then "services: [name]"');
  }
  if (options.interval !== undefined) {
    let intervals = 0;
    text = text.replace(GLOBAL_INTERVAL, (_, indent: string, key: string) => (intervals++, `${indent}${key}: ${options.interval}`));
    if (intervals !== 2) throw new Error('prometheus config: expected a global scrape_interval and evaluation_interval');
  }
  return text;
}
