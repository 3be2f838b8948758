// Makes and removes the namespaces, bridges and veth pairs of a HostsPlan with iproute2. Each
// region's router forwards between its hosts, the viewers' link and the WAN link to the other
// router. TCP to the other region is not forwarded: the router holds the other region's addresses
// as its own, so such connections end at its WAN relay (wan-relay.ts), which adds the delay and
// hands them to the other router's relay to dial. UDP (Consul's gossip probes) is forwarded.
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { HOSTS_NETWORK, type HostsPlan, type RegionPlan } from './host-plan.js';

const run = promisify(execFile);

/** In a router: UDP to the other region is routed before the local table (moved from 0) is read. */
const UDP_RULE_PREF = 100;
const LOCAL_RULE_PREF = 200;
/** The machine's per-region viewer routing tables. */
const VIEWER_TABLE_BASE = 7700;
const WAN_LINK = 'wan';
const VIEWER_LINK_IN_ROUTER = 'viewers';
const BRIDGE = 'br0';

export class HostsModeError extends Error {}

async function ip(...args: string[]): Promise<void> {
  try {
    await run('ip', args, { timeout: 10_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new HostsModeError(`ip ${args.join(' ')}: ${stderr || (error as Error).message}`);
  }
}

async function sysctlIn(namespace: string, settings: Record<string, string>): Promise<void> {
  const script = Object.entries(settings)
    .map(([key, value]) => `echo ${value} > /proc/sys/${key.replaceAll('.', '/')}`)
    .join(' && ');
  await run('ip', ['netns', 'exec', namespace, 'sh', '-c', script], { timeout: 10_000 });
}

/** Root is needed for namespaces and links; say so before touching anything. */
export function assertCanMakeHosts(): void {
  if (process.platform !== 'linux') throw new HostsModeError('--hosts needs Linux network namespaces');
  if (process.getuid?.() !== 0) throw new HostsModeError('--hosts makes network namespaces and links, which needs root (run it as root or with sudo)');
}

/** Namespaces left by a run that did not clean up (killed with SIGKILL, power loss). */
export async function leftoverNamespaces(plan: HostsPlan): Promise<string[]> {
  const names = await readdir('/run/netns').catch(() => [] as string[]);
  return names.filter((name) => name.startsWith(plan.prefix)).sort();
}

function otherRegion(plan: HostsPlan, region: RegionPlan): RegionPlan {
  return plan.regions.find((candidate) => candidate !== region)!;
}

async function makeRouter(plan: HostsPlan, region: RegionPlan, index: number): Promise<void> {
  const ns = region.routerNamespace;
  const other = otherRegion(plan, region);
  await ip('netns', 'add', ns);
  await ip('-n', ns, 'link', 'set', 'lo', 'up');
  await sysctlIn(ns, { 'net.ipv4.ip_forward': '1', 'net.ipv4.conf.all.rp_filter': '0', 'net.ipv4.conf.default.rp_filter': '0' });
  await ip('-n', ns, 'link', 'add', BRIDGE, 'type', 'bridge');
  await ip('-n', ns, 'addr', 'add', `${region.gateway}/24`, 'dev', BRIDGE);
  await ip('-n', ns, 'link', 'set', BRIDGE, 'up');
  // The viewers' link: its far end is the machine's own namespace.
  await ip('link', 'add', region.viewerLink, 'type', 'veth', 'peer', 'name', VIEWER_LINK_IN_ROUTER, 'netns', ns);
  await ip('addr', 'add', `${region.viewerAddress}/24`, 'dev', region.viewerLink);
  await ip('link', 'set', region.viewerLink, 'up');
  await ip('-n', ns, 'addr', 'add', `${region.viewerGateway}/24`, 'dev', VIEWER_LINK_IN_ROUTER);
  await ip('-n', ns, 'link', 'set', VIEWER_LINK_IN_ROUTER, 'up');
  // The machine reaches every host through the router of the region its source address is in.
  const table = String(VIEWER_TABLE_BASE + index + 1);
  await ip('route', 'add', HOSTS_NETWORK, 'via', region.viewerGateway, 'table', table);
  await ip('rule', 'add', 'from', `${region.viewerSubnet}.0/24`, 'lookup', table, 'pref', table);
  // The other region's addresses are local here ("AnyIP"), so TCP to them ends at this router's
  // relay; UDP to them (Consul's gossip probes) is routed across the WAN before that lookup.
  for (const subnet of [other.subnet, other.viewerSubnet]) {
    await ip('-n', ns, 'rule', 'add', 'pref', String(UDP_RULE_PREF), 'to', `${subnet}.0/24`, 'ipproto', 'udp', 'lookup', 'main');
    await ip('-n', ns, 'route', 'add', 'local', `${subnet}.0/24`, 'dev', 'lo', 'table', 'local');
  }
  await ip('-n', ns, 'rule', 'add', 'pref', String(LOCAL_RULE_PREF), 'lookup', 'local');
  await ip('-n', ns, 'rule', 'del', 'pref', '0');
}

async function linkRouters(plan: HostsPlan): Promise<void> {
  const [first, second] = plan.regions as [RegionPlan, RegionPlan];
  await ip('-n', first.routerNamespace, 'link', 'add', WAN_LINK, 'type', 'veth', 'peer', 'name', WAN_LINK, 'netns', second.routerNamespace);
  for (const region of [first, second]) {
    const other = otherRegion(plan, region);
    await ip('-n', region.routerNamespace, 'addr', 'add', `${region.wanAddress}/30`, 'dev', WAN_LINK);
    await ip('-n', region.routerNamespace, 'link', 'set', WAN_LINK, 'up');
    await ip('-n', region.routerNamespace, 'route', 'add', `${other.subnet}.0/24`, 'via', other.wanAddress);
    await ip('-n', region.routerNamespace, 'route', 'add', `${other.viewerSubnet}.0/24`, 'via', other.wanAddress);
  }
}

async function makeHost(plan: HostsPlan, host: HostsPlan['hosts'][number]): Promise<void> {
  const region = plan.regions.find((candidate) => candidate.name === host.region)!;
  await ip('netns', 'add', host.namespace);
  await ip('-n', host.namespace, 'link', 'set', 'lo', 'up');
  await ip('-n', region.routerNamespace, 'link', 'add', host.routerLink, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.namespace);
  await ip('-n', region.routerNamespace, 'link', 'set', host.routerLink, 'master', BRIDGE, 'up');
  await ip('-n', host.namespace, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0');
  await ip('-n', host.namespace, 'link', 'set', 'eth0', 'up');
  await ip('-n', host.namespace, 'route', 'add', 'default', 'via', region.gateway);
}

/** Everything the plan needs, in the machine's routing too (rules and tables 7701…). */
export async function makeHostNetwork(plan: HostsPlan): Promise<void> {
  assertCanMakeHosts();
  for (const namespace of await leftoverNamespaces(plan)) {
    const { stdout } = await run('ip', ['netns', 'pids', namespace]);
    if (stdout.trim()) throw new HostsModeError(`another --hosts run is active (namespace ${namespace} has processes ${stdout.trim().split('\n').join(', ')}); stop it first`);
  }
  // What is left has no process: a run that could not clean up (SIGKILL, power loss).
  await removeHostNetwork(plan);
  try {
    for (const [index, region] of plan.regions.entries()) await makeRouter(plan, region, index);
    await linkRouters(plan);
    // Without a chosen source address the machine is a viewer of the first region.
    await ip('route', 'add', HOSTS_NETWORK, 'via', plan.regions[0]!.viewerGateway);
    for (const host of plan.hosts) await makeHost(plan, host);
  } catch (error) {
    await removeHostNetwork(plan);
    throw error;
  }
}

/** Removes whatever of the plan exists; safe to call twice or after a partial start. */
export async function removeHostNetwork(plan: HostsPlan): Promise<void> {
  const quietly = (promise: Promise<void>): Promise<void> => promise.catch(() => {});
  for (const [index] of plan.regions.entries()) {
    const table = String(VIEWER_TABLE_BASE + index + 1);
    await quietly(ip('rule', 'del', 'pref', table));
    await quietly(ip('route', 'flush', 'table', table));
  }
  // Deleting a namespace deletes the veth ends inside it, and with them their peers.
  for (const namespace of await leftoverNamespaces(plan)) await quietly(ip('netns', 'del', namespace));
  for (const region of plan.regions) await quietly(ip('link', 'del', region.viewerLink));
}

/** A region's datacenter link fails: its hosts are cut off; its viewers' router still reaches the WAN. */
export async function setRegionLink(plan: HostsPlan, regionName: string, up: boolean): Promise<void> {
  const region = plan.regions.find((candidate) => candidate.name === regionName);
  if (!region) throw new RangeError(`no region "${regionName}"`);
  await ip('-n', region.routerNamespace, 'link', 'set', BRIDGE, up ? 'up' : 'down');
}
