// Where every "host" of `streamedge start --hosts` sits: one Linux network namespace per service,
// on its region's subnet behind a per-region router namespace, and the viewers' addresses in the
// machine's own namespace. Pure data, so the layout is tested without root.
import { DEMO_SHIELDS, type EdgePlacement } from '../stack-topology.js';

export type HostRole = 'consul-server' | 'origin' | 'shield' | 'edge' | 'balancer';

export interface RegionPlan {
  readonly name: string;
  readonly lat: number;
  readonly lon: number;
  /** Namespace of the region's router (bridge for its hosts, link to the viewers, WAN link). */
  readonly routerNamespace: string;
  /** The region's hosts: `<subnet>.0/24`; the router is `.1`. */
  readonly subnet: string;
  readonly gateway: string;
  /** Viewers placed in this region: the machine's own address `<viewerSubnet>.2`, router `.1`. */
  readonly viewerSubnet: string;
  readonly viewerAddress: string;
  readonly viewerGateway: string;
  /** The machine-side name of the viewers' link to this region's router (≤ 15 characters). */
  readonly viewerLink: string;
  /** This router's end of the WAN link between the two routers. */
  readonly wanAddress: string;
}

export interface HostPlan {
  readonly name: string;
  readonly role: HostRole;
  readonly region: string;
  readonly namespace: string;
  readonly address: string;
  /** The host's link name on its router's bridge (≤ 15 characters, unique inside the router). */
  readonly routerLink: string;
  /** For edges and shields: where they stand (Consul meta, the balancer's and edges' distance). */
  readonly placement?: EdgePlacement;
}

export interface HostsPlan {
  readonly regions: readonly RegionPlan[];
  readonly hosts: readonly HostPlan[];
  /** Namespace prefix shared by everything the run creates, so a stale run can be found and removed. */
  readonly prefix: string;
  readonly ports: { readonly balancer: number; readonly edge: number; readonly origin: number; readonly shield: number };
}

/** Every TCP port crossing the WAN goes through the delaying relay; Consul's own are among them. */
export const CONSUL_PORTS = { http: 8500, serfLan: 8301, server: 8300 } as const;
/** Where each router's relay takes the other relay's connections, on its WAN address. */
export const WAN_TRANSIT_PORT = 7700;
/** Every address of a `--hosts` run is inside this. */
export const HOSTS_NETWORK = '10.77.0.0/16';

export const HOSTS_PREFIX = 'se-';
/** The demo's shield per region, named to fit a host name (the namespace and link names are bounded). */
export const HOSTS_SHIELDS: readonly EdgePlacement[] = DEMO_SHIELDS.map((shield, i) => ({ ...shield, id: `shield-${i + 1}` }));
const BASE = '10.77';
const WAN_SUBNET = `${BASE}.0`;

export interface HostsPlanOptions {
  readonly edges: readonly EdgePlacement[];
  /** One per region as a rule: the region's edges fill from it (host names ≤ 12 characters). */
  readonly shields?: readonly EdgePlacement[];
  readonly regions: readonly { readonly name: string; readonly lat: number; readonly lon: number }[];
  readonly originCount: number;
  readonly consulServers?: number;
}

/** Origins, Consul servers and the balancer are spread over regions in order; the balancer sits in the first. */
export function planHosts(options: HostsPlanOptions): HostsPlan {
  if (options.regions.length !== 2) throw new RangeError(`hosts mode has exactly two regions (one WAN link), got ${options.regions.length}`);
  const servers = options.consulServers ?? 3;
  if (servers !== 3) throw new RangeError('hosts mode runs three Consul servers (a Raft quorum that survives losing one)');
  const regions: RegionPlan[] = options.regions.map((region, i) => {
    if (!/^[a-z0-9-]{1,20}$/.test(region.name)) throw new RangeError(`region name "${region.name}": lowercase letters, digits and dashes, ≤ 20`);
    return {
      ...region,
      routerNamespace: `${HOSTS_PREFIX}gw-${region.name}`,
      subnet: `${BASE}.${i + 1}`,
      gateway: `${BASE}.${i + 1}.1`,
      viewerSubnet: `${BASE}.${101 + i}`,
      viewerAddress: `${BASE}.${101 + i}.2`,
      viewerGateway: `${BASE}.${101 + i}.1`,
      viewerLink: `${HOSTS_PREFIX}v-${i + 1}`,
      wanAddress: `${WAN_SUBNET}.${i + 1}`,
    };
  });
  const hosts: HostPlan[] = [];
  const nextAddress = new Map(regions.map((region) => [region.name, 2]));
  const add = (name: string, role: HostRole, regionName: string, placement?: EdgePlacement): void => {
    const region = regions.find((candidate) => candidate.name === regionName);
    if (!region) throw new RangeError(`${name}: region "${regionName}" is not one of ${regions.map((r) => r.name).join(', ')}`);
    if (!/^[a-z0-9-]{1,12}$/.test(name)) throw new RangeError(`host name "${name}": lowercase letters, digits and dashes, ≤ 12`);
    const octet = nextAddress.get(regionName)!;
    nextAddress.set(regionName, octet + 1);
    hosts.push({
      name,
      role,
      region: regionName,
      namespace: `${HOSTS_PREFIX}${name}`,
      address: `${region.subnet}.${octet}`,
      routerLink: `h-${name}`,
      ...(placement ? { placement } : {}),
    });
  };
  // Two servers in the first region, one in the second: losing either region's WAN link leaves
  // the first with a quorum, as a real two-site layout would be arranged.
  for (let i = 0; i < servers; i++) add(`consul-${i + 1}`, 'consul-server', regions[i < 2 ? 0 : 1]!.name);
  add('balancer', 'balancer', regions[0]!.name);
  for (let i = 0; i < options.originCount; i++) add(`origin-${i + 1}`, 'origin', regions[i % regions.length]!.name);
  for (const edge of options.edges) add(edge.id, 'edge', edge.region, edge);
  for (const shield of options.shields ?? []) add(shield.id, 'shield', shield.region, shield);
  return { regions, hosts, prefix: HOSTS_PREFIX, ports: { balancer: 8080, edge: 8081, origin: 8091, shield: 8101 } };
}

/** The balancer's location table: each region's viewer and host subnets. */
export function hostsLocationTable(plan: HostsPlan): { regions: Record<string, { lat: number; lon: number }>; prefixes: { cidr: string; region: string }[] } {
  return {
    regions: Object.fromEntries(plan.regions.map((region) => [region.name, { lat: region.lat, lon: region.lon }])),
    prefixes: plan.regions.flatMap((region) => [
      { cidr: `${region.viewerSubnet}.0/24`, region: region.name },
      { cidr: `${region.subnet}.0/24`, region: region.name },
    ]),
  };
}

/** TCP ports a host may be reached on from the other region (the relay listens on these; shields ask the other region's shield). */
export function wanPorts(plan: HostsPlan): number[] {
  return [...new Set([plan.ports.balancer, plan.ports.edge, plan.ports.origin, plan.ports.shield, CONSUL_PORTS.http, CONSUL_PORTS.serfLan, CONSUL_PORTS.server])].sort((a, b) => a - b);
}
