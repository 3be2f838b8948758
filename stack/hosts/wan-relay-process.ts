// The WAN relay's own process, started inside a region's router namespace by `start --hosts`:
// `wan-relay-process.js <delay-ms> <port,port,…> <transit ip:port> <peer ip:port>`.
// Prints `ready` once every port listens.
import { startWanRelay, type Endpoint } from './wan-relay.js';

const endpoint = (text = ''): Endpoint => {
  const [host = '', port] = text.split(':');
  return { host, port: Number(port) };
};
const [delay, ports, transit, peer] = process.argv.slice(2);
const relay = await startWanRelay({ delayMs: Number(delay), ports: (ports ?? '').split(',').map(Number), transit: endpoint(transit), peer: endpoint(peer) });
process.stdout.write('ready\n');
for (const name of ['SIGINT', 'SIGTERM'] as const) {
  process.once(name, () => void relay.close().then(() => process.exit(0)));
}
