import { parseCommandOptions } from '../runtime/command-options.js';
import { CONSUL_VERSION, obtainConsulBinary } from './consul-binary.js';

export async function main(argv: readonly string[]): Promise<void> {
  parseCommandOptions(
    'consul',
    `Finds a Consul agent ($CONSUL_BIN, consul on PATH, or a cached build) or builds Consul ${CONSUL_VERSION} with Go, then prints its path.`,
    {},
    argv,
  );
  const binary = await obtainConsulBinary((line) => console.error(line));
  console.log(binary);
}
