// A balancer built in-process over a static snapshot of stand-in edges, listening on a free port,
// for tests that exercise its endpoints without Consul.
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { BALANCER_DEFAULTS, createBalancer, type Balancer, type BalancerOptions } from '../balancer-wiring.js';
import { parseStaticEdgeSpec, type EdgeNode } from '../discovery/edge-node.js';
import { createSnapshot } from '../discovery/edge-snapshot.js';
import { parseIpPrefix } from '../../infra/net/ip-prefix-table.js';
import { buildLocationTable } from '../location/location-table.js';
import type { StandInEdge } from './stand-in-edge.js';

const LOCATIONS = buildLocationTable({
  prefixes: [
    { cidr: '127.0.1.0/24', region: 'us-east', lat: 39.04, lon: -77.49 },
    { cidr: '127.0.2.0/24', region: 'eu-west', lat: 53.35, lon: -6.26 },
  ],
});

export const edgeNode = (standIn: StandInEdge, region: string, lat: number, lon: number): EdgeNode => {
  const result = parseStaticEdgeSpec(`${standIn.url};id=${standIn.id};region=${region};lat=${lat};lon=${lon}`);
  if (!('edge' in result)) throw new Error(result.reason);
  return result.edge;
};

export async function startBalancer(mode: BalancerOptions['mode'], edges: readonly EdgeNode[], overrides: Partial<BalancerOptions> = {}) {
  const balancer: Balancer = createBalancer({
    ...BALANCER_DEFAULTS,
    mode,
    logger: pino({ level: 'silent' }),
    locations: LOCATIONS,
    trustedProxies: [parseIpPrefix('127.0.0.9/32')],
    hintsEnabled: true,
    playerDir: join(tmpdir(), 'streamedge-no-such-player-dir'),
    ...overrides,
  });
  balancer.setSnapshot(createSnapshot(edges, 'static'));
  await new Promise<void>((resolve) => balancer.server.listen(0, '127.0.0.1', resolve));
  const { port } = balancer.server.address() as AddressInfo;
  return {
    balancer,
    port,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      balancer.server.closeAllConnections();
      await new Promise((resolve) => balancer.server.close(resolve));
      await balancer.close();
    },
  };
}

