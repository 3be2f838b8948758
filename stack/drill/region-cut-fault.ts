// A region's datacenter link fails: the bridge in its router's namespace goes down, so its hosts
// (edges, origins, Consul agents) are cut off while its viewers' link still reaches the WAN and
// with it the other region. Restoring brings the bridge back up. Needs root, as the hosts mode does.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { regionLinkArgs } from '../hosts/host-network.js';
import type { DrillFault } from './drill-fault.js';

const run = promisify(execFile);
const IP_TIMEOUT_MS = 10_000;

export interface RegionCutOptions {
  readonly region: string;
  readonly routerNamespace: string;
}

export function createRegionCutFault(options: RegionCutOptions): DrillFault {
  const setLink = async (up: boolean): Promise<void> => {
    try {
      await run('ip', regionLinkArgs(options.routerNamespace, up), { timeout: IP_TIMEOUT_MS });
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr?.trim();
      throw new Error(`region ${options.region}: ip ${regionLinkArgs(options.routerNamespace, up).join(' ')}: ${stderr || (error as Error).message}`);
    }
  };
  return {
    description: `cut region ${options.region}'s link (bridge down in ${options.routerNamespace})`,
    selfRestoring: false,
    inject: () => setLink(false),
    restore: () => setLink(true),
    abandon: () => {
      try {
        execFileSync('ip', regionLinkArgs(options.routerNamespace, true), { timeout: IP_TIMEOUT_MS, stdio: 'ignore' });
      } catch {
        // the namespace is gone: nothing is left cut
      }
    },
  };
}
