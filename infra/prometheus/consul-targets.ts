// A Prometheus HTTP service-discovery endpoint backed by Consul's catalog, for a Prometheus built
// without consul_sd_configs (Debian's). GET /targets/<service> answers with the service's instances
// in http_sd format, labelled exactly as consul_sd_configs labels them (`__meta_consul_*`), so the
// same relabel_configs apply to either.
import { createServer, type Server } from 'node:http';
import { consulErrorMessage, createConsulClient } from '../consul/consul-client.js';
import type { ConsulConnection } from '../consul/consul-connection.js';
import { closeGracefully, listen } from '../runtime/http-lifecycle.js';

interface CatalogEntry {
  readonly Node: string;
  readonly Address: string;
  readonly Datacenter: string;
  readonly ServiceName: string;
  readonly ServiceID: string;
  readonly ServiceAddress: string;
  readonly ServicePort: number;
  readonly ServiceTags: readonly string[] | null;
  readonly ServiceMeta: Readonly<Record<string, string>> | null;
}

export interface HttpSdTargetGroup {
  readonly targets: string[];
  readonly labels: Record<string, string>;
}

/** One catalog entry as a target group, with the labels Prometheus's Consul discovery sets. */
export function targetGroupFor(entry: CatalogEntry): HttpSdTargetGroup {
  const host = entry.ServiceAddress || entry.Address;
  const labels: Record<string, string> = {
    __meta_consul_address: entry.Address,
    __meta_consul_dc: entry.Datacenter,
    __meta_consul_node: entry.Node,
    __meta_consul_service: entry.ServiceName,
    __meta_consul_service_address: entry.ServiceAddress,
    __meta_consul_service_id: entry.ServiceID,
    __meta_consul_service_port: String(entry.ServicePort),
    __meta_consul_tags: `,${(entry.ServiceTags ?? []).join(',')},`,
  };
  for (const [key, value] of Object.entries(entry.ServiceMeta ?? {})) {
    labels[`__meta_consul_service_metadata_${key.replace(/[^a-zA-Z0-9_]/g, '_')}`] = value;
  }
  return { targets: [`${host.includes(':') ? `[${host}]` : host}:${entry.ServicePort}`], labels };
}

export interface ConsulTargetsServer {
  /** Base URL; `${url}/targets/<service>` is one service's http_sd endpoint. */
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

export async function startConsulTargetsServer(options: { readonly consul: ConsulConnection; readonly host?: string; readonly port?: number }): Promise<ConsulTargetsServer> {
  const consul = createConsulClient(options.consul);
  const server = createServer((request, response) => {
    const service = /^\/targets\/([\w.-]+)$/.exec(request.url ?? '')?.[1];
    if (request.method !== 'GET' || !service) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('GET /targets/<consul service name>\n');
      return;
    }
    // The client takes a per-request timeout that its types leave out.
    const query = { service, timeout: 5000 };
    consul.catalog.service
      .nodes(query)
      .then((entries: CatalogEntry[]) => {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(entries.map(targetGroupFor)));
      })
      // Prometheus keeps the last good target list when discovery fails.
      .catch((error: unknown) => response.writeHead(502, { 'content-type': 'text/plain' }).end(`Consul catalog: ${consulErrorMessage(error)}\n`));
  });
  const host = options.host ?? '127.0.0.1';
  const address = await listen(server, options.port ?? 0, host);
  return { url: `http://${host}:${address.port}`, server, close: () => closeGracefully(server, 1000) };
}
