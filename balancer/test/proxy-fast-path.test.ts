// The proxy fast path against an edge that answers in every framing HTTP/1.1 allows, written on a
// raw socket: chunked bodies, interim 1xx responses, bodies delimited by closing, fields the
// Connection header names, and a head nobody can read; a body large enough to fill read buffers
// for a viewer that reads slowly, and an edge that speaks on an idle connection.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
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
  // Bytes after a complete answer, once the connection is back in the balancer's pool.
  chatty: 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
};
const BIG_BODY = randomBytes(3 * 1024 * 1024 + 17);
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('balancer: proxy fast path', () => {
  let edgeServer: Server;
  let balancer: Awaited<ReturnType<typeof startBalancer>>;
  // Edge connections that carried media requests, so reuse can be counted.
  const mediaConnections = new Set<Socket>();
  const closedConnections = new Set<Socket>();

  before(async () => {
    edgeServer = createServer((socket) => {
      let pending = '';
      socket.on('data', (chunk: Buffer) => {
        pending += chunk.toString('latin1');
        let end: number;
        while ((end = pending.indexOf('\r\n\r\n')) !== -1) {
          const head = pending.slice(0, end);
          const target = head.split(' ')[1]!;
          pending = pending.slice(end + 4);
          if (target === '/healthz') {
            socket.write('HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nok\n');
            continue;
          }
          mediaConnections.add(socket);
          const kind = target.split('/')[2]!;
          if (kind === 'echo') {
            // The request's field lines, as the edge got them.
            const fields = head.slice(head.indexOf('\r\n') + 2);
            socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(fields, 'latin1')}\r\n\r\n${fields}`, 'latin1');
            continue;
          }
          if (kind === 'big') {
            socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${BIG_BODY.length}\r\n\r\n`);
            socket.write(BIG_BODY);
            continue;
          }
          socket.write(ANSWERS[kind] ?? 'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
          if (kind === 'until-close') socket.end();
          if (kind === 'chatty') setTimeout(() => socket.write('HTTP/1.1 200 OK\r\n'), 50);
        }
      });
      socket.on('close', () => closedConnections.add(socket));
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

  it('sends the edge each request’s own fields when they change within a connection', async () => {
    const request = (fields: string): string => `GET /vod/echo/720p/seg-00001.ts HTTP/1.1\r\nHost: b\r\n${fields}\r\n`;
    const read = await rawExchange(balancer.url, request('X-Test: a\r\n') + request('X-Test: a\r\n') + request('X-Test: b\r\nAccept: */*\r\n') + request(''), ['GET', 'GET', 'GET', 'GET'], true);
    assert.equal(read.kind, 'complete', JSON.stringify(read));
    const seen = read.responses.map((response) => response.body.toString('latin1'));
    assert.match(seen[0]!, /^x-test: a\r\n/m);
    assert.equal(seen[1], seen[0], 'the same fields again: the same forwarded fields');
    assert.match(seen[2]!, /^x-test: b\r\n/m);
    assert.match(seen[2]!, /^accept: \*\/\*\r\n/m);
    assert.doesNotMatch(seen[3]!, /x-test|accept/);
    for (const fields of seen) assert.match(fields, /^x-forwarded-for: 127\.0\.0\.1\r\n/m);
  });

  it('locates each request with a region hint afresh on a connection whose earlier requests had none', async () => {
    const plain = 'GET /vod/echo/720p/seg-00001.ts HTTP/1.1\r\nHost: b\r\n\r\n';
    const inQuery = await rawExchange(balancer.url, plain + 'GET /vod/echo/720p/seg-00002.ts?region=atlantis HTTP/1.1\r\nHost: b\r\n\r\n', ['GET', 'GET'], true);
    assert.equal(inQuery.kind, 'complete', JSON.stringify(inQuery));
    assert.deepEqual(inQuery.responses.map((response) => response.status), [200, 400], 'an unknown region in the query is refused, not routed as the first request was');
    const inField = await rawExchange(balancer.url, plain + 'GET /vod/echo/720p/seg-00002.ts HTTP/1.1\r\nHost: b\r\nX-Streamedge-Region: atlantis\r\n\r\n', ['GET', 'GET'], true);
    assert.equal(inField.kind, 'complete', JSON.stringify(inField));
    assert.deepEqual(inField.responses.map((response) => response.status), [200, 400], 'an unknown region in a field is refused too');
  });

  it('hands node:http the requests it does not serve after the viewer half-closed, and node:http answers them', async () => {
    const read = await rawExchange(balancer.url, get('chunked', 1) + 'GET /healthz HTTP/1.1\r\nHost: b\r\n\r\n', ['GET', 'GET'], true);
    assert.equal(read.kind, 'complete', JSON.stringify(read));
    assert.deepEqual(read.responses.map((response) => response.status), [200, 200]);
    assert.equal(read.responses[0]!.body.toString(), 'hello');
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

  it('relays a body of many reads intact to a viewer that reads slowly, growing the read buffer within its budget', async () => {
    const viewer = connect({ host: '127.0.0.1', port: balancer.port });
    viewer.write(get('big'));
    const chunks: Buffer[] = [];
    let total = 0;
    // Pauses now and then, so the balancer's writes back up and read buffers are lent to them.
    viewer.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      total += chunk.length;
      if (chunks.length % 8 === 0) {
        viewer.pause();
        setTimeout(() => viewer.resume(), 20);
      }
    });
    const response = await new Promise<Buffer>((resolve, reject) => {
      viewer.on('error', reject);
      const check = (): void => {
        const all = Buffer.concat(chunks);
        const headEnd = all.indexOf('\r\n\r\n');
        if (headEnd !== -1 && total - headEnd - 4 >= BIG_BODY.length) resolve(all);
      };
      viewer.on('data', check);
    });
    viewer.destroy();
    const headEnd = response.indexOf('\r\n\r\n');
    assert.match(response.subarray(0, headEnd).toString('latin1'), /^HTTP\/1\.1 200 OK\r\n/);
    const body = response.subarray(headEnd + 4);
    assert.equal(body.length, BIG_BODY.length, 'nothing past the body');
    assert.equal(sha256(body), sha256(BIG_BODY), 'the bytes the edge sent, in order');
    const buffered = Number(/^streamedge_balancer_proxy_read_buffer_bytes (\d+)/m.exec(await balancer.balancer.metrics.registry.metrics())?.[1]);
    assert.ok(buffered > 16 * 1024, `a read buffer grew past 16 KiB (${buffered} bytes)`);
    assert.ok(buffered <= 32 * 1024 * 1024, `within the 32 MiB budget (${buffered} bytes)`);
  });

  it('closes an edge connection that sends bytes while idle, and serves the next request on a new one', async () => {
    mediaConnections.clear();
    closedConnections.clear();
    const first = await rawExchange(balancer.url, get('chatty'), ['GET'], true);
    assert.equal(first.kind, 'complete', JSON.stringify(first));
    assert.equal(first.responses[0]!.body.toString(), 'ok');
    const [chatty] = mediaConnections;
    await sleep(150);
    assert.ok(chatty && closedConnections.has(chatty), 'the balancer closed the connection that spoke out of turn');
    const next = await rawExchange(balancer.url, get('chunked'), ['GET'], true);
    assert.equal(next.kind, 'complete', JSON.stringify(next));
    assert.deepEqual([next.responses[0]!.status, next.responses[0]!.body.toString()], [200, 'hello']);
    assert.equal(mediaConnections.size, 2, 'a new edge connection served it');
  });
});
