// The proxy fast path against an edge that answers in every framing HTTP/1.1 allows, written on a
// raw socket: chunked bodies, interim 1xx responses, bodies delimited by closing, fields the
// Connection header names, and a head nobody can read.
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { rawExchange } from '../../infra/testing/raw-client.js';
import { responseField } from '../../infra/testing/http-response-reader.js';
import type { StandInEdge } from './stand-in-edge.js';
import { edgeNode, startBalancer } from './test-balancer.js';

const ANSWERS: Record<string, string> = {
  chunked: 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  interim: 'HTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
  private: 'HTTP/1.1 200 OK\r\nconnection: x-private\r\nx-private: secret\r\nkeep-alive: timeout=5\r\ncontent-length: 2\r\n\r\nok',
  'until-close': 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil close',
  malformed: 'HTTP/1.1 2000 Nope\r\n\r\n',
};

describe('balancer: proxy fast path', () => {
  let edgeServer: Server;
  let balancer: Awaited<ReturnType<typeof startBalancer>>;
  // Edge connections that carried media requests, so reuse can be counted.
  const mediaConnections = new Set<Socket>();

  before(async () => {
    edgeServer = createServer((socket) => {
      let pending = '';
      socket.on('data', (chunk: Buffer) => {
        pending += chunk.toString('latin1');
        let end: number;
        while ((end = pending.indexOf('\r\n\r\n')) !== -1) {
          const target = pending.slice(0, end).split(' ')[1]!;
          pending = pending.slice(end + 4);
          if (target === '/healthz') {
            socket.write('HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nok\n');
            continue;
          }
          mediaConnections.add(socket);
          const kind = target.split('/')[2]!;
          socket.write(ANSWERS[kind] ?? 'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
          if (kind === 'until-close') socket.end();
        }
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => edgeServer.listen(0, '127.0.0.1', resolve));
    const edge = { id: 'edge-raw', url: `http://127.0.0.1:${(edgeServer.address() as AddressInfo).port}` } as StandInEdge;
    balancer = await startBalancer('proxy', [edgeNode(edge, 'us-east', 39, -77)]);
  });
  after(async () => {
    await balancer.close();
    await new Promise((resolve) => edgeServer.close(resolve));
  });

  const get = (kind: string, index = 0): string => `GET /vod/${kind}/720p/seg-0000${index}.ts HTTP/1.1\r\nHost: b\r\n\r\n`;

  it('relays chunked bodies and skips interim responses, reusing one edge connection for pipelined requests', async () => {
    mediaConnections.clear();
    const read = await rawExchange(balancer.url, get('chunked', 1) + get('interim', 2) + get('chunked', 3), ['GET', 'GET', 'GET'], true);
    assert.equal(read.kind, 'complete', JSON.stringify(read));
    assert.deepEqual(read.responses.map((response) => [response.status, response.body.toString(), response.interim]), [[200, 'hello', 0], [200, 'ok', 0], [200, 'hello', 0]]);
    assert.equal(responseField(read.responses[0]!, 'transfer-encoding'), 'chunked');
    assert.equal(mediaConnections.size, 1, 'one kept-alive edge connection served all three');
  });

  it('drops hop-by-hop fields and those the edge’s Connection names', async () => {
    const read = await rawExchange(balancer.url, get('private'), ['GET'], true);
    assert.equal(read.kind, 'complete', JSON.stringify(read));
    const response = read.responses[0]!;
    assert.equal(response.body.toString(), 'ok');
    assert.equal(responseField(response, 'x-private'), undefined);
    assert.equal(responseField(response, 'connection'), 'keep-alive');
  });

  it('closes the viewer’s connection after a body the edge delimited by closing', async () => {
    const read = await rawExchange(balancer.url, get('until-close') + get('chunked'), ['GET', 'GET']);
    assert.equal(read.kind, 'complete', JSON.stringify(read));
    assert.equal(read.responses.length, 1, 'nothing follows a close-delimited body');
    assert.equal(read.responses[0]!.body.toString(), 'until close');
    assert.equal(responseField(read.responses[0]!, 'connection'), 'close');
  });

  it('answers 502 for an edge response head nobody can read, without ejecting the edge', async () => {
    const read = await rawExchange(balancer.url, get('malformed'), ['GET'], true);
    assert.equal(read.kind, 'complete', JSON.stringify(read));
    assert.equal(read.responses[0]!.status, 502);
    assert.match(read.responses[0]!.body.toString(), /malformed response from edge/);
    assert.equal(balancer.balancer.health.isAvailable('edge-raw'), true);
  });
});
