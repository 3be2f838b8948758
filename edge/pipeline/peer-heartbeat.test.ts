import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPeerHeartbeat } from './peer-heartbeat.js';

/** What a raw client reads for one request, until the server closes or `ms` pass. */
function exchange(port: number, request: string, ms: number, onOpen?: (destroy: () => void) => void): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    const done = (): void => {
      socket.destroy();
      resolve(text);
    };
    socket.on('close', done);
    setTimeout(done, ms).unref();
    onOpen?.(() => socket.destroy());
  });
}

describe('peer heartbeat', () => {
  const heartbeat = createPeerHeartbeat(100);
  let server: Server;
  let port: number;
  let answerAfterMs = 550;
  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      heartbeat.watch(req, res);
      const timer = setTimeout(() => {
        res.writeHead(200, { 'content-length': '2', connection: 'close' });
        res.end('ok');
      }, answerAfterMs);
      res.on('close', () => clearTimeout(timer));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    heartbeat.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('answers with 102 Processing at once and on every beat, and stops at the response head', async () => {
    answerAfterMs = 550;
    const text = await exchange(port, 'GET /a HTTP/1.1\r\nhost: x\r\n\r\n', 3000);
    const head = text.indexOf('HTTP/1.1 200');
    assert.ok(head > 0, text);
    const beats = text.slice(0, head).match(/HTTP\/1\.1 102 Processing\r\n\r\n/g) ?? [];
    // One at once, then one every 100 ms until the answer at 550 ms (timers on a busy machine may skip one).
    assert.ok(beats.length >= 4 && beats.length <= 7, `${beats.length} beats before the head`);
    assert.equal(text.slice(0, head), beats.join(''), 'nothing but 102s before the head');
    assert.doesNotMatch(text.slice(head), /102 Processing/);
    assert.equal(heartbeat.waiting, 0);
  });

  it('sends no 1xx to an HTTP/1.0 client (RFC 9110 §15.2)', async () => {
    answerAfterMs = 250;
    const text = await exchange(port, 'GET /b HTTP/1.0\r\n\r\n', 3000);
    assert.match(text, /^HTTP\/1\.1 200 /);
  });

  it('forgets a request whose client went away', async () => {
    answerAfterMs = 60_000;
    let destroy: () => void = () => {};
    const reading = exchange(port, 'GET /c HTTP/1.1\r\nhost: x\r\n\r\n', 5000, (cut) => (destroy = cut));
    await sleep(250);
    assert.equal(heartbeat.waiting, 1);
    destroy();
    assert.match(await reading, /^HTTP\/1\.1 102 Processing/);
    await sleep(150);
    assert.equal(heartbeat.waiting, 0);
  });
});
