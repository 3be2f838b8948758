import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseResponseHead, RawHttpConnection, RawHttpFailure } from './raw-http-connection.js';

/** What the test server does with each request head it reads in full: the raw bytes it answers with (as separate writes). */
type Answer = (head: string, socket: Socket) => readonly (string | Buffer)[] | 'silent' | 'close';

const GET = 'GET /p HTTP/1.1\r\nHost: t\r\n\r\n';
let answer: Answer = () => [];
let server: Server;
let port: number;
let accepted = 0;
const heads: string[] = [];

const connection = (overrides: Partial<ConstructorParameters<typeof RawHttpConnection>[0]> = {}): RawHttpConnection =>
  new RawHttpConnection({ host: '127.0.0.1', port, timeoutMs: 2_000, maxHeadBytes: 1024, maxBodyBytes: 64 * 1024, readBuffer: Buffer.alloc(4096), ...overrides });

const failureOf = async (promise: Promise<unknown>): Promise<string> => {
  const error = await promise.then(
    () => assert.fail('expected the request to fail'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof RawHttpFailure, `not a RawHttpFailure: ${String(error)}`);
  return error.reason;
};

before(async () => {
  server = createServer((socket) => {
    accepted++;
    let pending = '';
    socket.on('error', () => {});
    socket.on('data', async (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const head = pending.slice(0, end + 4);
        pending = pending.slice(end + 4);
        heads.push(head);
        const reply = answer(head, socket);
        if (reply === 'close') socket.destroy();
        if (reply === 'close' || reply === 'silent') continue;
        // Separate writes a few ms apart, so the client meets heads and bodies cut anywhere.
        for (const piece of reply) {
          socket.write(piece);
          if (reply.length > 1) await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

after(() => server.close());

describe('raw keep-alive HTTP connection (bench:live client)', () => {
  it('reads a Content-Length answer and sends the next request on the same connection', async () => {
    answer = () => ['HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello'];
    const client = connection();
    const before = accepted;
    const first = await client.request(GET, true);
    const second = await client.request(GET, true);
    assert.deepEqual([first.status, first.body.toString(), first.bodyBytes], [200, 'hello', 5]);
    assert.equal(second.body.toString(), 'hello');
    assert.equal(accepted - before, 1);
    assert.equal(client.connectionsOpened, 1);
    assert.equal(heads.at(-1), GET);
    client.close();
  });

  it('joins a head and a body cut across many reads, and counts a body it was not asked to keep', async () => {
    const body = Buffer.alloc(10_000, 7);
    answer = () => ['HTTP/1.1 200 OK\r\nConte', 'nt-Length: 10000\r', '\n\r\n', body.subarray(0, 3), body.subarray(3, 6_000), body.subarray(6_000)];
    const client = connection();
    const kept = await client.request(GET, true);
    assert.ok(kept.body.equals(body));
    const counted = await client.request(GET, false);
    assert.deepEqual([counted.bodyBytes, counted.body.length], [10_000, 0]);
    assert.equal(client.connectionsOpened, 1);
    client.close();
  });

  it('keeps the body of an answer other than 200 even when not asked to, for the failure\'s reason', async () => {
    answer = () => ['HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy'];
    const client = connection();
    const response = await client.request(GET, false);
    assert.deepEqual([response.status, response.body.toString()], [503, 'busy']);
    client.close();
  });

  it('fails a chunked answer, naming its Transfer-Encoding, and opens a new connection for the next request', async () => {
    answer = (head) =>
      head.startsWith('GET /chunked') ? ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'] : ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'];
    const client = connection();
    assert.equal(await failureOf(client.request('GET /chunked HTTP/1.1\r\nHost: t\r\n\r\n', true)), 'Transfer-Encoding chunked response');
    assert.equal((await client.request(GET, true)).body.toString(), 'ok');
    assert.equal(client.connectionsOpened, 2);
    client.close();
  });

  it('fails an answer without Content-Length (a body up to the close is not accepted)', async () => {
    answer = (_head, socket) => {
      setTimeout(() => socket.end(), 10);
      return ['HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome bytes'];
    };
    assert.equal(await failureOf(connection().request(GET, true)), 'response without Content-Length');
  });

  it('fails bytes past the Content-Length, whether in the same read or arriving while idle', async () => {
    answer = () => ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA'];
    assert.equal(await failureOf(connection().request(GET, true)), 'bytes past the Content-Length');
    answer = (_head, socket) => {
      setTimeout(() => socket.write('HTTP/1.1 200 OK\r\n'), 30);
      return ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'];
    };
    const client = connection();
    assert.equal((await client.request(GET, true)).body.toString(), 'ok');
    await new Promise((resolve) => setTimeout(resolve, 80));
    // Charged to the next request, which never reaches the server on the spoilt connection.
    assert.equal(await failureOf(client.request(GET, true)), 'bytes outside any response');
    client.close();
  });

  it('fails malformed framing: status line, Content-Length, two different Content-Lengths', async () => {
    const cases: [string, string][] = [
      ['HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n', 'malformed status line'],
      ['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', 'malformed Content-Length'],
      ['HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok', 'malformed Content-Length'],
      ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok', 'conflicting Content-Length fields'],
    ];
    for (const [raw, reason] of cases) {
      answer = () => [raw];
      assert.equal(await failureOf(connection().request(GET, true)), reason, raw);
    }
  });

  it('refuses a head over its limit and a declared body over its limit, before reading them', async () => {
    answer = () => [`HTTP/1.1 200 OK\r\nX-Long: ${'a'.repeat(2_000)}\r\nContent-Length: 0\r\n\r\n`];
    assert.equal(await failureOf(connection().request(GET, true)), 'response head over the limit');
    answer = () => ['HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n'];
    assert.equal(await failureOf(connection().request(GET, true)), 'Content-Length over the limit');
  });

  it('times out an answer that never comes, and one that stops mid-body', async () => {
    answer = () => 'silent';
    assert.equal(await failureOf(connection({ timeoutMs: 100 }).request(GET, true)), 'client timeout');
    answer = () => ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'];
    assert.equal(await failureOf(connection({ timeoutMs: 100 }).request(GET, true)), 'client timeout');
  });

  it('tells a close before the answer from a close mid-answer', async () => {
    answer = () => 'close';
    assert.equal(await failureOf(connection().request(GET, true)), 'connection closed before the response');
    answer = (_head, socket) => {
      setTimeout(() => socket.destroy(), 20);
      return ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'];
    };
    assert.equal(await failureOf(connection().request(GET, true)), 'connection closed mid-response');
  });

  it('reopens after Connection: close and after the server closed an idle connection, without a failure', async () => {
    answer = () => ['HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok'];
    const client = connection();
    await client.request(GET, true);
    await client.request(GET, true);
    assert.equal(client.connectionsOpened, 2);
    answer = (_head, socket) => {
      setTimeout(() => socket.end(), 10);
      return ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'];
    };
    await client.request(GET, true);
    await new Promise((resolve) => setTimeout(resolve, 60));
    await client.request(GET, true);
    assert.equal(client.connectionsOpened, 4);
    client.close();
  });

  it('names a refused connection', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const closedPort = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    assert.equal(await failureOf(connection({ port: closedPort }).request(GET, true)), 'connection error ECONNREFUSED');
  });

  it('takes only one request at a time, and validates its options', async () => {
    answer = () => 'silent';
    const client = connection({ timeoutMs: 200 });
    const first = client.request(GET, true);
    await assert.rejects(client.request(GET, true), /one request at a time/);
    assert.equal(await failureOf(first), 'client timeout');
    assert.throws(() => connection({ timeoutMs: 0 }), TypeError);
    assert.throws(() => connection({ maxHeadBytes: 10 }), TypeError);
    assert.throws(() => connection({ readBuffer: Buffer.alloc(16) }), TypeError);
  });
});

describe('response head framing', () => {
  it('finds the length and the connection\'s fate whatever the fields\' case, HTTP/1.0 closing by default', () => {
    assert.deepEqual(parseResponseHead('HTTP/1.1 200 OK\r\ncontent-LENGTH: 12\r\nCache-Status: edge; hit'), { status: 200, contentLength: 12, closeAfter: false });
    assert.deepEqual(parseResponseHead('HTTP/1.1 404\r\nContent-Length: 0\r\nConnection: close'), { status: 404, contentLength: 0, closeAfter: true });
    assert.deepEqual(parseResponseHead('HTTP/1.0 200 OK\r\nContent-Length: 1'), { status: 200, contentLength: 1, closeAfter: true });
    assert.deepEqual(parseResponseHead('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1'), { status: 200, contentLength: 1, closeAfter: false });
  });

  it('does not take a Content-Length inside another field\'s value for the field', () => {
    assert.throws(() => parseResponseHead('HTTP/1.1 200 OK\r\nX-Note: content-length: 5'), (error: RawHttpFailure) => error.reason === 'response without Content-Length');
  });
});
