#!/usr/bin/env node
import { HelpRequested, OptionError } from '../../infra/runtime/command-options.js';

interface Subcommand {
  readonly summary: string;
  /** main resolves with an exit code when it has one to give (a drill's verdict), else 0 is meant. */
  readonly load: () => Promise<{ main(argv: readonly string[]): Promise<void | number> }>;
}

// Each subcommand is loaded on demand so `streamedge origin` never pulls in the balancer's code.
const subcommands: Readonly<Record<string, Subcommand>> = {
  content: { summary: 'generate the demo HLS catalog with ffmpeg', load: () => import('../../origin/content-command.js') },
  package: { summary: 'package a video (ABR ladder, audio and subtitle tracks) or an HLS directory into the catalog', load: () => import('../../origin/package-command.js') },
  live: { summary: 'encode a live channel in real time (a looped file or a generated source) into the catalog', load: () => import('../../origin/live/live-command.js') },
  origin: { summary: 'serve the HLS catalog (VOD and live channels)', load: () => import('../../origin/origin-command.js') },
  consul: { summary: 'obtain a Consul agent binary and print its path', load: () => import('../../infra/consul/consul-command.js') },
  'consul-targets': { summary: "serve Consul's catalog to Prometheus over http_sd (Debian's Prometheus lacks Consul discovery)", load: () => import('../../infra/prometheus/consul-targets-command.js') },
  edge: { summary: 'serve and cache HLS from origin replicas (coalescing, failover, Consul)', load: () => import('../../edge/edge-command.js') },
  balancer: { summary: 'steer viewers to the nearest healthy edge (steering, redirect or proxy)', load: () => import('../../balancer/balancer-command.js') },
  sign: { summary: 'print a signed URL for a path prefix (for edges and balancers with --token-secret-file)', load: () => import('../../infra/auth/sign-command.js') },
  start: { summary: 'run the whole local system (Consul, a live encoder, origins, edges, balancer)', load: () => import('../start-command.js') },
  drill: { summary: 'run a failure drill (edge-kill, origin-slow, consul-down, …) against a running system and judge it', load: () => import('../drill/drill-command.js') },
};

function usage(): string {
  const width = Math.max(...Object.keys(subcommands).map((name) => name.length));
  return [
    'Usage: streamedge <command> [options]',
    '',
    'Commands:',
    ...Object.entries(subcommands).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`),
    '',
    'Run `streamedge <command> --help` for its options.',
  ].join('\n');
}

async function run(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const subcommand = subcommands[name];
  if (!subcommand) {
    console.error(`streamedge: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    const module = await subcommand.load();
    return (await module.main(rest)) ?? 0;
  } catch (error) {
    if (error instanceof HelpRequested) {
      console.log(error.usage);
      return 0;
    }
    if (error instanceof OptionError) {
      console.error(`streamedge ${name}: ${error.message}`);
      return 2;
    }
    console.error(`streamedge ${name}: ${(error as Error).stack ?? String(error)}`);
    return 1;
  }
}

process.exitCode = await run(process.argv.slice(2));
