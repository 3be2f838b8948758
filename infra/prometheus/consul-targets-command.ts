// `streamedge consul-targets`: the Consul → Prometheus http_sd bridge as a service, for a fleet whose
// Prometheus is Debian's (built without consul_sd_configs). `--print-config` prints the shipped
// scrape configuration pointed at this bridge, ready for /etc/prometheus/prometheus.yml.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CONSUL_ACCESS_OPTIONS, consulConnectionFrom } from '../consul/consul-connection.js';
import { parseCommandOptions } from '../runtime/command-options.js';
import { waitForShutdownSignal } from '../runtime/http-lifecycle.js';
import { createLogger } from '../runtime/logger.js';
import { startConsulTargetsServer } from './consul-targets.js';
import { PROMETHEUS_FILES_DIR, withHttpDiscovery } from './prometheus-config.js';

const SPECS = {
  consul: { kind: 'url', description: 'Consul agent HTTP address whose catalog is served', default: 'http://127.0.0.1:8500' },
  ...CONSUL_ACCESS_OPTIONS,
  host: { kind: 'string', description: 'address to bind (Prometheus runs on the same host)', default: '127.0.0.1' },
  port: { kind: 'port', description: 'port to listen on (0 picks a free one)', default: 9500 },
  'refresh-interval': { kind: 'duration', description: 'how often Prometheus asks again (written by --print-config)', default: '30s', min: 1000 },
  'print-config': { kind: 'boolean', description: 'print infra/prometheus/prometheus.yml with Consul discovery through this bridge, and exit' },
} as const;

const SUMMARY = `Serves Consul's catalog to Prometheus over http_sd: GET /targets/<service> lists the
instances with the labels consul_sd_configs would give them (__meta_consul_*), so the shipped
relabelling applies. For Debian's prometheus package, which is built without Consul discovery:
  streamedge consul-targets --print-config > /etc/prometheus/prometheus.yml`;

export async function main(argv: readonly string[]): Promise<void> {
  const options = parseCommandOptions('consul-targets', SUMMARY, SPECS, argv);
  if (options['print-config']) {
    const shipped = await readFile(join(PROMETHEUS_FILES_DIR, 'prometheus.yml'), 'utf8');
    const base = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`;
    const config = withHttpDiscovery(shipped, {
      targetsUrl: (service) => `${base}/targets/${service}`,
      refreshInterval: `${options['refresh-interval'] / 1000}s`,
    });
    process.stdout.write(`# Made by \`streamedge consul-targets --print-config\` from infra/prometheus/prometheus.yml.\n${config}`);
    return;
  }
  const log = createLogger('consul-targets');
  const bridge = await startConsulTargetsServer({ consul: consulConnectionFrom(options)!, host: options.host, port: options.port });
  log.info({ url: bridge.url, consul: options.consul }, 'listening');
  const signal = await waitForShutdownSignal();
  log.info({ signal }, 'shutting down');
  await bridge.close();
  log.info('stopped');
}
