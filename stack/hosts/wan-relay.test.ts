import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { test } from 'node:test';
import { freePorts } from '../../infra/runtime/free-ports.js';
import { startWanRelay } from './wan-relay.js';

const DELAY_MS = 60;

async function listening(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Two relays on loopback as two routers would be: `near` takes clients, `far` dials the server. */
async function relayPair(serverPort: number) {
  const [clientPort, nearTransit, farTransit, farPort] = await freePorts(4);
  const destination = () => ({ host: '127.0.0.1', port: serverPort });
  const near = await startWanRelay({ ports: [clientPort!], delayMs: DELAY_MS, transit: { host: '127.0.0.1', port: nearTransit! }, peer: { host: '127.0.0.1', port: farTransit! }, destination, keepClientAddress: false });
  const far = await startWanRelay({ ports: [farPort!], delayMs: DELAY_MS, transit: { host: '127.0.0.1', port: farTransit! }, peer: { host: '127.0.0.1', port: nearTransit! }, keepClientAddress: false });
  return { clientPort: clientPort!, farTransit: farTransit!, near, far, close: () => Promise.all([near.close(), far.close()]) };
}

test('a request across the relay arrives whole, a delay late each way', async (t) => {
  const body = Buffer.alloc(3 * 1024 * 1024, 7);
  const server = createHttpServer((req, res) => res.end(req.url === '/big' ? body : 'pong'));
  const pair = await relayPair(await listening(server as unknown as Server));
  t.after(async () => {
    await pair.close();
    server.close();
  });
  const direct = performance.now();
  const { Agent, request } = await import('undici');
  const agent = new Agent({ connections: 1 });
  t.after(() => agent.close());
  const first = await request(`http://127.0.0.1:${pair.clientPort}/ping`, { dispatcher: agent });
  assert.equal(await first.body.text(), 'pong');
  const opening = performance.now() - direct;
  // Handshake, request, response: three crossings.
  assert.ok(opening >= 3 * DELAY_MS, `a new connection and a request take ≥ ${3 * DELAY_MS} ms, took ${opening.toFixed(0)}`);
  const started = performance.now();
  const big = await request(`http://127.0.0.1:${pair.clientPort}/big`, { dispatcher: agent });
  const received = Buffer.from(await big.body.arrayBuffer());
  const roundTrip = performance.now() - started;
  assert.ok(received.equals(body), 'the body crossed intact and in order');
  assert.ok(roundTrip >= 2 * DELAY_MS, `a request on an open connection takes ≥ one round trip (${roundTrip.toFixed(0)} ms)`);
});

test('a half-close crosses the relay: the server still answers after the client ends its side', async (t) => {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('end', () => socket.end(`got ${received}`));
  });
  const pair = await relayPair(await listening(server));
  t.after(async () => {
    await pair.close();
    server.close();
  });
  const client = connect({ port: pair.clientPort, host: '127.0.0.1', allowHalfOpen: true });
  client.end('hello');
  let answer = '';
  for await (const chunk of client) answer += (chunk as Buffer).toString();
  assert.equal(answer, 'got hello');
});

test('a refused destination closes the client connection, and the relay holds nothing afterwards', async (t) => {
  const [closedPort] = await freePorts(1);
  const pair = await relayPair(closedPort!);
  t.after(() => pair.close());
  const client = connect({ port: pair.clientPort, host: '127.0.0.1' });
  client.on('error', () => {});
  await new Promise((resolve) => client.once('close', resolve));
  await new Promise((resolve) => setTimeout(resolve, 3 * DELAY_MS));
  assert.equal(pair.near.openConnections(), 0);
  assert.equal(pair.far.openConnections(), 0);
});

test('the transit port accepts only a well-formed header; anything else is closed', async (t) => {
  const server = createServer((socket) => socket.end('should not be reached'));
  const pair = await relayPair(await listening(server));
  t.after(async () => {
    await pair.close();
    server.close();
  });
  for (const junk of ['GET / HTTP/1.1\r\n\r\n', 'not-an-ip 80 127.0.0.1\n', `127.0.0.1 99999 127.0.0.1\n`, 'x'.repeat(200)]) {
    const socket = connect({ port: pair.farTransit, host: '127.0.0.1' });
    socket.on('error', () => {});
    socket.write(junk);
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    await new Promise((resolve) => socket.once('close', resolve));
    assert.equal(answer, '', `nothing relayed for ${JSON.stringify(junk.slice(0, 30))}`);
  }
});

test('bad options are refused up front', async () => {
  const transit = { host: '127.0.0.1', port: 7700 };
  await assert.rejects(startWanRelay({ ports: [], delayMs: 10, transit, peer: transit }), /ports/);
  await assert.rejects(startWanRelay({ ports: [8080], delayMs: -1, transit, peer: transit }), /delayMs/);
  await assert.rejects(startWanRelay({ ports: [8080], delayMs: 10, transit, peer: { host: 'router', port: 1 } }), /peer/);
});
