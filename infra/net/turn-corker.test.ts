import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createTurnCorker } from './turn-corker.js';

describe('createTurnCorker', () => {
  let server: Server;
  // What the peer has read, and how many reads it took.
  const received: { text: string; reads: number }[] = [];
  let clients: Socket[] = [];

  before(async () => {
    server = createServer((socket) => {
      const record = { text: '', reads: 0 };
      received.push(record);
      socket.on('data', (chunk: Buffer) => {
        record.text += chunk.toString('latin1');
        record.reads++;
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  after(async () => {
    for (const client of clients) client.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const openClient = async (): Promise<Socket> => {
    const socket = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', noDelay: true });
    await once(socket, 'connect');
    clients.push(socket);
    return socket;
  };
  const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

  it('holds a socket’s writes until the end of the turn, then sends them as one', async () => {
    received.length = 0;
    clients = [];
    const socket = await openClient();
    const corker = createTurnCorker();
    corker.cork(socket);
    socket.write('one ');
    corker.cork(socket);
    socket.write('two');
    assert.equal(socket.writableLength, 7, 'nothing left during the turn');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(socket.writableCorked, 0, 'corked once per turn, uncorked once');
    await settle();
    assert.deepEqual(received, [{ text: 'one two', reads: 1 }]);
  });

  it('corks each socket of a turn and uncorks them all', async () => {
    received.length = 0;
    const sockets = [await openClient(), await openClient()];
    await settle();
    const corker = createTurnCorker();
    for (const [index, socket] of sockets.entries()) {
      corker.cork(socket);
      socket.write(`reply ${index}`);
    }
    await new Promise((resolve) => setImmediate(resolve));
    for (const socket of sockets) assert.equal(socket.writableCorked, 0);
    await settle();
    assert.deepEqual(received.map((record) => record.text).sort(), ['reply 0', 'reply 1']);
  });

  it('lets a socket ended or destroyed within the turn flush or drop as it would uncorked', async () => {
    received.length = 0;
    const ended = await openClient();
    const destroyed = await openClient();
    await settle();
    const corker = createTurnCorker();
    corker.cork(ended);
    ended.write('last words');
    ended.end();
    corker.cork(destroyed);
    destroyed.write('never sent');
    destroyed.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    await settle();
    assert.deepEqual(received.map((record) => record.text).sort(), ['', 'last words']);
  });
});
