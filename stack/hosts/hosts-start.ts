// `streamedge start --hosts`: runs the hosts stack in the foreground, prints where everything is
// and how to be a viewer of either region, reports health changes, and removes it all on Ctrl-C.
import { obtainConsulBinary } from '../../infra/consul/consul-binary.js';
import { waitForShutdownSignal } from '../../infra/runtime/http-lifecycle.js';
import { monitorStackHealth } from '../health-monitor.js';
import type { StackLiveChannel } from '../live-encoder-supervisor.js';
import { startHostsStack, type HostsStack } from './hosts-stack.js';
import { alignColumns } from '../text-columns.js';

export interface HostsStartOptions {
  readonly contentDir: string;
  readonly mode: 'steering' | 'redirect' | 'proxy';
  readonly wanDelayMs: number;
  readonly edgeCacheSize?: string;
  readonly healthIntervalMs: number;
  readonly prometheusBinary: string;
  readonly metricsInterval: string;
  readonly live?: StackLiveChannel;
  /** A service that exits is started again in its namespace after this long. */
  readonly restartAfterMs: number;
  /** Where the processes, regions and namespaces are recorded for `streamedge drill`. */
  readonly stateFile: string;
}

function hostsTable(stack: HostsStack): string {
  const rows: string[][] = [
    ['host', 'role', 'address', 'region', 'namespace'],
    ...stack.plan.hosts.map((host) => [host.name, host.role, host.address, host.region, host.namespace]),
    ...stack.plan.regions.map((region) => [`router ${region.name}`, 'router + WAN relay', `${region.subnet}.0/24`, region.name, region.routerNamespace]),
  ];
  return alignColumns(rows).join('\n');
}

export async function runHostsStack(options: HostsStartOptions): Promise<void> {
  const consulBinary = await obtainConsulBinary((line) => console.error(line));
  const signal = waitForShutdownSignal();
  const starting = startHostsStack({
    contentDir: options.contentDir,
    consulBinary,
    wanDelayMs: options.wanDelayMs,
    balancerMode: options.mode,
    ...(options.edgeCacheSize ? { edgeCacheSize: options.edgeCacheSize } : {}),
    metrics: { binary: options.prometheusBinary, interval: options.metricsInterval },
    ...(options.live ? { live: options.live } : {}),
    restartAfterMs: options.restartAfterMs,
    stateFile: options.stateFile,
    onProgress: (message) => console.log(`  ${message}`),
  });
  const outcome = await Promise.race([
    starting.then((started) => ({ stack: started }), (error: unknown) => ({ error })),
    signal.then((received) => ({ signal: received })),
  ]);
  if ('signal' in outcome) {
    console.log(`\n${outcome.signal}: stopping what has started and removing the namespaces…`);
    await starting.then((started) => started.stop(), () => {});
    return;
  }
  if ('error' in outcome) throw outcome.error;
  const { stack } = outcome;
  const [first, second] = stack.plan.regions;
  console.log(`\n${hostsTable(stack)}\n`);
  console.log(`started in:  ${(stack.startedInMs / 1000).toFixed(1)} s (3 Consul servers, a client agent per host, WAN one-way delay ${options.wanDelayMs} ms)`);
  console.log(`player:      ${stack.balancerUrl}/   (this machine is a ${first!.name} viewer, from ${first!.viewerAddress})`);
  console.log(`as ${second!.name}:  curl --interface ${second!.viewerAddress} ${stack.balancerUrl}/vod/demo-ts/master.m3u8`);
  console.log(`status:      ${stack.balancerUrl}/status   consul: ${stack.consulUrl}/ui`);
  console.log(`drills:      streamedge drill region-cut --region ${second!.name}   (a service that exits is restarted after ${options.restartAfterMs / 1000} s; processes recorded in ${options.stateFile})`);
  if (stack.prometheus) console.log(`prometheus:  ${stack.prometheus.url}/alerts`);
  console.log('\nhealth (a line per service whenever it changes; Ctrl-C stops everything):');
  const monitor = monitorStackHealth(stack, options.healthIntervalMs, (line) => console.log(line));
  const received = await signal;
  monitor.stop();
  console.log(`\n${received}: stopping every service and Consul agent, removing namespaces and links…`);
  await stack.stop();
  console.log('stopped');
}
