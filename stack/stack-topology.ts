import { fileURLToPath } from 'node:url';

/** Where an edge stands; registered as Consul service meta so the balancer can measure distance. */
export interface EdgePlacement {
  readonly id: string;
  readonly region: string;
  readonly lat: number;
  readonly lon: number;
}

/** The demo's three edges in two regions (CONTRACTS: us-east Ashburn, eu-west Dublin). */
export const DEMO_EDGES: readonly EdgePlacement[] = [
  { id: 'edge-1', region: 'us-east', lat: 39.04, lon: -77.49 },
  { id: 'edge-2', region: 'us-east', lat: 39.04, lon: -77.49 },
  { id: 'edge-3', region: 'eu-west', lat: 53.35, lon: -6.26 },
];

/** One shield per region, beside the region's edges (`edge --tier shield`; never sent viewers). */
export const DEMO_SHIELDS: readonly EdgePlacement[] = [
  { id: 'shield-us-east', region: 'us-east', lat: 39.04, lon: -77.49 },
  { id: 'shield-eu-west', region: 'eu-west', lat: 53.35, lon: -6.26 },
];

export const DEMO_ORIGIN_COUNT = 2;
export const DEMO_BASE_PORT = 8080;
export const DEMO_CONSUL_PORT = 8500;

/** Origins sit ten ports above the first edge, e.g. 8091, 8092 for base port 8080. */
const ORIGIN_PORT_OFFSET = 11;
/** Shields sit above the origins, e.g. 8101, 8102 for base port 8080. */
const SHIELD_PORT_OFFSET = 21;

/** The IP-prefix → location table shipped with the stack (source file, read at run time). */
export const SHIPPED_LOCATIONS_FILE = fileURLToPath(new URL('../../stack/locations.json', import.meta.url));

export interface StackPorts {
  readonly consul: number;
  readonly balancer: number;
  readonly edges: readonly number[];
  readonly origins: readonly number[];
  readonly shields: readonly number[];
}

/** Fixed ports laid out from one base: balancer = base, edges base+1…, origins base+11…, shields base+21…. */
export function portsFromBase(basePort: number, consulPort: number, edgeCount: number, originCount: number, shieldCount = 0): StackPorts {
  if (edgeCount >= ORIGIN_PORT_OFFSET - 1) throw new RangeError(`at most ${ORIGIN_PORT_OFFSET - 2} edges fit below the origin ports`);
  if (originCount > SHIELD_PORT_OFFSET - ORIGIN_PORT_OFFSET) throw new RangeError(`at most ${SHIELD_PORT_OFFSET - ORIGIN_PORT_OFFSET} origins fit below the shield ports`);
  const highest = shieldCount > 0 ? basePort + SHIELD_PORT_OFFSET + shieldCount - 1 : basePort + ORIGIN_PORT_OFFSET + originCount - 1;
  if (!Number.isInteger(basePort) || basePort < 1 || highest > 65535) {
    throw new RangeError(`base port ${basePort} leaves no room for ${originCount} origins and ${shieldCount} shields below 65536`);
  }
  return {
    consul: consulPort,
    balancer: basePort,
    edges: Array.from({ length: edgeCount }, (_, i) => basePort + 1 + i),
    origins: Array.from({ length: originCount }, (_, i) => basePort + ORIGIN_PORT_OFFSET + i),
    shields: Array.from({ length: shieldCount }, (_, i) => basePort + SHIELD_PORT_OFFSET + i),
  };
}
