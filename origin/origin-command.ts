import type { Server as HttpsServer } from 'node:https';
import { stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { CONSUL_ACCESS_OPTIONS, consulConnectionFrom } from '../infra/consul/consul-connection.js';
import { checkedAddress, createServiceRegistration, requireAdvertisedUrl, type ServiceRegistration } from '../infra/consul/service-registration.js';
import { reloadOnHangup, serverCredentialsFrom, TLS_SERVER_OPTIONS } from '../infra/tls/tls-credentials.js';
import { OptionError, parseCommandOptions } from '../infra/runtime/command-options.js';
import { closeGracefully, waitForShutdownSignal } from '../infra/runtime/http-lifecycle.js';
import { createLogger } from '../infra/runtime/logger.js';
import { startOriginServer } from './origin-server.js';

export const ORIGIN_SERVICE = 'streamedge-origin';

const OPTIONS = {
  content: { kind: 'string', description: 'catalog directory made by `streamedge content`', default: './content' },
  port: { kind: 'port', description: 'TCP port (0 picks a free one)', default: 8091 },
  host: { kind: 'string', description: 'address to bind', default: '127.0.0.1' },
  consul: { kind: 'url', description: 'Consul HTTP address; registers as streamedge-origin when given' },
  ...CONSUL_ACCESS_OPTIONS,
  ...TLS_SERVER_OPTIONS,
  url: { kind: 'url', description: 'base URL edges use to reach this origin (Consul meta; default: the listening URL)' },
  id: { kind: 'string', description: 'instance name and Consul service ID (default origin-<hostname>-<port>)' },
  'cache-size': { kind: 'bytes', description: 'memory for small files kept with their hashes', default: 256 * 1024 * 1024, min: 1 },
  'max-held-requests': { kind: 'integer', description: 'LL-HLS blocking reloads and preload-hinted part requests held at once (more get 503)', default: 10_000, min: 0, max: 1_000_000 },
  'shutdown-grace': { kind: 'duration', description: 'how long in-flight responses may take on shutdown', default: '10s' },
} as const;

export async function main(argv: readonly string[]): Promise<void> {
  const options = parseCommandOptions('origin', 'Serve the HLS catalog: VOD assets and the live channels `streamedge live` writes.', OPTIONS, argv);
  requireAdvertisedUrl(options, 'edges use to reach this origin');
  const consul = consulConnectionFrom(options);
  const tls = serverCredentialsFrom(options);
  if (tls && options.url !== undefined && new URL(options.url).protocol !== 'https:') throw new OptionError('--url', `must be an https URL with --tls-cert; got ${options.url}`);
  const contentDir = resolve(options.content);
  if (!(await stat(contentDir).then((stats) => stats.isDirectory(), () => false))) {
    throw new OptionError('--content', `${contentDir} is not a directory: make the catalog with \`streamedge content --content ${options.content}\``);
  }
  // A free port (0) is not known yet, so such an instance is named after its process instead.
  const id = options.id ?? `origin-${hostname()}-${options.port === 0 ? `pid${process.pid}` : options.port}`;
  const log = createLogger('origin', id);
  const origin = await startOriginServer({
    contentDir,
    id,
    maxCachedBytes: options['cache-size'],
    maxHeldRequests: options['max-held-requests'],
    logger: log,
    port: options.port,
    host: options.host,
    tls,
  });
  reloadOnHangup(tls ? [origin.server as HttpsServer] : [], tls, log);
  const publicUrl = new URL(options.url ?? origin.url);

  let registration: ServiceRegistration | undefined;
  if (consul) {
    registration = createServiceRegistration({
      consul,
      name: ORIGIN_SERVICE,
      id,
      address: checkedAddress(options.host),
      port: origin.port,
      meta: { url: options.url ?? origin.url },
      tags: ['origin'],
      checkPath: '/healthz',
      ...(tls ? { checkTlsServerName: publicUrl.hostname.replace(/^\[|\]$/g, '') } : {}),
      logger: log,
    });
    try {
      await registration.start();
    } catch (error) {
      await closeGracefully(origin.server, 0);
      throw new Error(`could not register with Consul at ${options.consul}: ${(error as Error).message}`);
    }
  }
  log.info({ url: origin.url, content: contentDir, consul: options.consul ?? null }, 'listening');

  const signal = await waitForShutdownSignal();
  log.info({ signal }, 'shutting down');
  origin.setDraining(true);
  if (registration) {
    await registration.deregister().catch((error: Error) => log.warn({ err: error.message }, 'could not deregister from Consul'));
  }
  await origin.close(options['shutdown-grace']);
  log.info('stopped');
}
