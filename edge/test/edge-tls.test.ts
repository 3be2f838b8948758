import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect as connectHttp2 } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { pino } from 'pino';
import { createLocalCa, type LocalCa } from '../../infra/tls/local-ca.js';
import { readServerCredentials } from '../../infra/tls/tls-credentials.js';
import { spawnStreamedge, type StreamedgeProcess } from '../../stack/streamedge-process.js';
import { createEdge, type Edge } from '../edge-server.js';

// The edge over TLS: HTTP/1.1 (hit fast path included) and HTTP/2 by ALPN, https origins verified
// against --tls-ca, and certificates re-read on SIGHUP by a real edge process with workers.

const silent = pino({ level: 'silent' });
const BODY = Buffer.alloc(64 * 1024, 7);
// Far more than the socket buffers hold, so a viewer that stops reading leaves it queued.
const LARGE = Buffer.alloc(8 * 1024 * 1024, 9);

let scratch: string;
let trusted: LocalCa;
let untrusted: LocalCa;

interface HttpsOrigin {
  readonly url: string;
  readonly requests: () => number;
  close(): Promise<void>;
}

async function startHttpsOrigin(ca: LocalCa): Promise<HttpsOrigin> {
  let requests = 0;
  const server: HttpsServer = createHttpsServer({ cert: await readFile(ca.certFile), key: await readFile(ca.keyFile) }, (req, res) => {
    requests++;
    const body = req.url?.includes('large') ? LARGE : BODY;
    res.writeHead(200, { 'content-type': 'video/mp2t', 'cache-control': 'public, max-age=60', 'content-length': String(body.length) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `https://127.0.0.1:${port}`,
    requests: () => requests,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function newEdge(id: string, originUrl: string, originCa: string | undefined, connections?: { writeTimeoutMs?: number; maxConnections?: number }): Edge {
  return createEdge({
    id,
    logger: silent,
    originUrls: [originUrl],
    cacheBytes: 32 * 1024 * 1024,
    maxObjectBytes: 16 * 1024 * 1024,
    ...(connections === undefined ? {} : { connections }),
    prefetchCount: 0,
    tls: readServerCredentials(trusted.certFile, trusted.keyFile),
    originCa,
  });
}

/** One kept-alive HTTP/1.1 connection over TLS, requests written and responses read raw. */
async function openTls(url: string, ca: string): Promise<{ socket: TLSSocket; get(path: string): Promise<{ head: string; body: Buffer }> }> {
  const { hostname, port } = new URL(url);
  const socket = await new Promise<TLSSocket>((resolve, reject) => {
    const opened = connectTls({ host: hostname, port: Number(port), ca, ALPNProtocols: ['http/1.1'] }, () => resolve(opened));
    opened.once('error', reject);
  });
  let buffered = Buffer.alloc(0);
  let wake = (): void => {};
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    wake();
  });
  socket.on('close', () => wake());
  return {
    socket,
    async get(path) {
      socket.write(`GET ${path} HTTP/1.1\r\nhost: ${hostname}\r\n\r\n`);
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end >= 0) {
          const head = buffered.subarray(0, end).toString('latin1');
          const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
          if (buffered.length >= end + 4 + length) {
            const body = buffered.subarray(end + 4, end + 4 + length);
            buffered = buffered.subarray(end + 4 + length);
            return { head, body };
          }
        }
        if (socket.destroyed) throw new Error('connection closed before a whole response');
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

async function fastPathHits(edge: Edge): Promise<number> {
  const text = await edge.metrics.registry.metrics();
  return Number(/^streamedge_edge_fast_path_hits_total (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'streamedge-edge-tls-'));
  trusted = await createLocalCa(join(scratch, 'trusted'));
  untrusted = await createLocalCa(join(scratch, 'untrusted'));
});

after(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('an edge serving TLS in front of an https origin', () => {
  let origin: HttpsOrigin;
  let edge: Edge;
  let edgeUrl: string;
  let caPem: string;

  before(async () => {
    caPem = await readFile(trusted.caCertFile, 'utf8');
    origin = await startHttpsOrigin(trusted);
    edge = newEdge('edge-tls', origin.url, caPem);
    edgeUrl = await edge.listen(0, '127.0.0.1');
  });
  after(async () => {
    await edge.close(1000);
    await origin.close();
  });

  it('listens on https and fetches a miss from the https origin it trusts through --tls-ca', async () => {
    assert.match(edgeUrl, /^https:\/\//);
    const connection = await openTls(edgeUrl, caPem);
    try {
      const first = await connection.get('/vod/a/seg-1.ts');
      assert.match(first.head, /^HTTP\/1\.1 200/);
      assert.match(first.head, /cache-status: streamedge-edge-tls; fwd=miss/i);
      assert.deepEqual(first.body, BODY);
      assert.equal(origin.requests(), 1);
      // A miss hands its connection to node:http for good; a new one starts on the hit fast path,
      // which answers plain fresh hits on the TLS socket, kept alive.
      const fresh = await openTls(edgeUrl, caPem);
      try {
        const fastBefore = await fastPathHits(edge);
        for (let i = 0; i < 3; i++) {
          const hit = await fresh.get('/vod/a/seg-1.ts');
          assert.match(hit.head, /cache-status: streamedge-edge-tls; hit/i);
          assert.deepEqual(hit.body, BODY);
        }
        assert.equal(await fastPathHits(edge), fastBefore + 3, 'served by the hit fast path over TLS');
      } finally {
        fresh.socket.destroy();
      }
      const throughNodeHttp = await connection.get('/vod/a/seg-1.ts');
      assert.match(throughNodeHttp.head, /cache-status: streamedge-edge-tls; hit/i);
      assert.equal(origin.requests(), 1);
    } finally {
      connection.socket.destroy();
    }
  });

  it('an HTTP/2 viewer (ALPN h2) gets cache hits, several streams on one session', async () => {
    const session = connectHttp2(edgeUrl, { ca: caPem });
    try {
      const get = (path: string): Promise<{ status: number; cacheStatus: string; body: Buffer }> =>
        new Promise((resolve, reject) => {
          const stream = session.request({ ':path': path });
          const chunks: Buffer[] = [];
          let status = 0;
          let cacheStatus = '';
          stream.on('response', (headers) => {
            status = Number(headers[':status']);
            cacheStatus = String(headers['cache-status']);
          });
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => resolve({ status, cacheStatus, body: Buffer.concat(chunks) }));
          stream.on('error', reject);
        });
      const miss = await get('/vod/a/seg-2.ts');
      assert.equal(session.alpnProtocol, 'h2');
      assert.equal(miss.status, 200);
      assert.match(miss.cacheStatus, /fwd=miss/);
      const hits = await Promise.all([get('/vod/a/seg-2.ts'), get('/vod/a/seg-2.ts'), get('/vod/a/seg-1.ts')]);
      for (const hit of hits) {
        assert.equal(hit.status, 200);
        assert.match(hit.cacheStatus, /^streamedge-edge-tls; hit/);
        assert.deepEqual(hit.body, BODY);
      }
    } finally {
      session.close();
    }
  });

  it('refuses an origin whose certificate its CA did not sign (502, nothing fetched)', async () => {
    const stranger = await startHttpsOrigin(untrusted);
    const picky = newEdge('edge-picky', stranger.url, caPem);
    const pickyUrl = await picky.listen(0, '127.0.0.1');
    const systemOnly = newEdge('edge-system-roots', stranger.url, undefined);
    const systemOnlyUrl = await systemOnly.listen(0, '127.0.0.1');
    try {
      for (const url of [pickyUrl, systemOnlyUrl]) {
        const connection = await openTls(url, caPem);
        const answer = await connection.get('/vod/a/seg-3.ts');
        connection.socket.destroy();
        assert.match(answer.head, /^HTTP\/1\.1 502/, answer.head);
      }
      assert.equal(stranger.requests(), 0, 'no request reached the untrusted origin');
    } finally {
      await picky.close(500);
      await systemOnly.close(500);
      await stranger.close();
    }
  });
});

describe('the write timeout over TLS', () => {
  let origin: HttpsOrigin;
  let edge: Edge;
  let edgeUrl: string;
  let caPem: string;
  const writeTimeouts = async (): Promise<number> => Number(/^streamedge_edge_write_timeouts_total (\d+)/m.exec(await edge.metrics.registry.metrics())?.[1]);

  before(async () => {
    caPem = await readFile(trusted.caCertFile, 'utf8');
    origin = await startHttpsOrigin(trusted);
    edge = newEdge('edge-tls-writes', origin.url, caPem, { writeTimeoutMs: 1000 });
    edgeUrl = await edge.listen(0, '127.0.0.1');
    const warm = await openTls(edgeUrl, caPem);
    await warm.get('/vod/a/large-1.ts');
    warm.socket.destroy();
  });
  after(async () => {
    await edge.close(1000);
    await origin.close();
  });

  it('cuts a TLS viewer that never reads a large hit, and keeps one that reads slowly', async () => {
    const { hostname, port } = new URL(edgeUrl);
    const connect = (): Promise<TLSSocket> =>
      new Promise((resolve, reject) => {
        const opened = connectTls({ host: hostname, port: Number(port), ca: caPem, ALPNProtocols: ['http/1.1'] }, () => resolve(opened));
        opened.once('error', reject);
      });
    assert.equal(await writeTimeouts(), 0, 'the warming viewer, reading, was not cut');
    const stalled = await connect();
    stalled.on('error', () => {});
    stalled.pause();
    const closed = new Promise<void>((resolve) => stalled.once('close', () => resolve()));
    const started = performance.now();
    stalled.write(`GET /vod/a/large-1.ts HTTP/1.1\r\nhost: ${hostname}\r\n\r\n`);
    while ((await writeTimeouts()) < 1) {
      assert.ok(performance.now() - started < 8000, 'no write timeout within 8 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(performance.now() - started >= 950, `cut after ${Math.round(performance.now() - started)} ms`);
    stalled.resume();
    await closed;

    // One write of 8 MiB goes out as TLS records the kernel takes bit by bit: progress, not a stall.
    const slow = await connect();
    let received = 0;
    slow.on('data', (chunk: Buffer) => (received += chunk.length));
    slow.pause();
    const done = new Promise<void>((resolve) => slow.once('close', () => resolve()));
    slow.write(`GET /vod/a/large-1.ts HTTP/1.1\r\nhost: ${hostname}\r\nconnection: close\r\n\r\n`);
    const reading = setInterval(() => {
      slow.resume();
      setTimeout(() => slow.pause(), 40);
    }, 250);
    await done;
    clearInterval(reading);
    assert.equal(await writeTimeouts(), 1, 'the slow reader was not cut');
    assert.ok(received > LARGE.length, `read ${received} bytes`);
  });
});

describe('connections still in their TLS handshake', () => {
  it('count against --max-connections: beyond it a connection is closed at once and counted', async () => {
    const caPem = await readFile(trusted.caCertFile, 'utf8');
    const edge = newEdge('edge-tls-cap', 'https://127.0.0.1:1', caPem, { maxConnections: 2 });
    const url = await edge.listen(0, '127.0.0.1');
    const { port } = new URL(url);
    const silent = await Promise.all([0, 1].map(() => new Promise<Socket>((resolve, reject) => {
      const socket = connectTcp(Number(port), '127.0.0.1', () => resolve(socket));
      socket.once('error', reject);
    })));
    try {
      const refused = await new Promise<string>((resolve) => {
        const attempt = connectTls({ host: '127.0.0.1', port: Number(port), ca: caPem }, () => resolve('handshake done'));
        attempt.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
        attempt.once('close', () => resolve('closed'));
      });
      assert.notEqual(refused, 'handshake done');
      const metrics = await edge.metrics.registry.metrics();
      assert.match(metrics, /^streamedge_edge_rejected_connections_total\{reason="max-connections"\} [1-9]/m);
      silent[0]!.destroy();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const admitted = await openTls(url, caPem);
      assert.equal(admitted.socket.authorized, true);
      admitted.socket.destroy();
    } finally {
      for (const socket of silent) socket.destroy();
      await edge.close(500);
    }
  });
});

describe('an edge process with workers re-reads its certificate on SIGHUP', () => {
  let edge: StreamedgeProcess;
  let origin: HttpsOrigin;
  let certFile: string;
  let keyFile: string;
  let caPem: string;

  const servedFingerprint = async (url: string): Promise<string> => {
    const { hostname, port } = new URL(url);
    const socket = await new Promise<TLSSocket>((resolve, reject) => {
      const opened = connectTls({ host: hostname, port: Number(port), ca: caPem }, () => resolve(opened));
      opened.once('error', reject);
    });
    const fingerprint = socket.getPeerX509Certificate()!.fingerprint256;
    socket.destroy();
    return fingerprint;
  };
  const fingerprintOf = async (file: string): Promise<string> => new X509Certificate(await readFile(file)).fingerprint256;
  const waitForLog = async (pattern: RegExp, timeoutMs = 10_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(edge.output())) {
      if (Date.now() > deadline) throw new Error(`no log line matching ${pattern}:\n${edge.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  before(async () => {
    caPem = await readFile(trusted.caCertFile, 'utf8');
    origin = await startHttpsOrigin(trusted);
    certFile = join(scratch, 'live-cert.pem');
    keyFile = join(scratch, 'live-key.pem');
    await copyFile(trusted.certFile, certFile);
    await copyFile(trusted.keyFile, keyFile);
    edge = await spawnStreamedge(['edge', '--port', '0', '--workers', '2', '--origin', origin.url, '--tls-ca', trusted.caCertFile, '--tls-cert', certFile, '--tls-key', keyFile, '--prefetch', '0']);
  });
  after(async () => {
    await edge?.stop(5000);
    await origin?.close();
  });

  it('serves the new certificate to new connections, keeps an open one, and keeps the old pair when the new one is bad', async () => {
    assert.match(edge.url, /^https:\/\//);
    const first = await fingerprintOf(trusted.certFile);
    assert.equal(await servedFingerprint(edge.url), first);
    const kept = await openTls(edge.url, caPem);
    assert.match((await kept.get('/vod/a/seg-1.ts')).head, /^HTTP\/1\.1 200/);

    const renewed = await createLocalCa(join(scratch, 'trusted'), { leafName: 'renewed' });
    await copyFile(renewed.certFile, certFile);
    await copyFile(renewed.keyFile, keyFile);
    process.kill(edge.child.pid!, 'SIGHUP');
    await waitForLog(/TLS certificate reloaded[\s\S]*TLS certificate reloaded/);
    const second = await fingerprintOf(renewed.certFile);
    assert.notEqual(second, first);
    // Both workers took it: connections land on either.
    for (let i = 0; i < 6; i++) assert.equal(await servedFingerprint(edge.url), second);
    assert.equal(kept.socket.getPeerX509Certificate()!.fingerprint256, first, 'the open connection still has the first certificate');
    const again = await kept.get('/vod/a/seg-1.ts');
    assert.match(again.head, /^HTTP\/1\.1 200/, 'the open keep-alive connection still serves');
    assert.ok(!kept.socket.destroyed);
    kept.socket.destroy();

    // A key that is not the certificate's: logged, and the old pair stays.
    await copyFile(untrusted.keyFile, keyFile);
    process.kill(edge.child.pid!, 'SIGHUP');
    await waitForLog(/TLS certificate reload failed; keeping the current one[\s\S]*TLS certificate reload failed/);
    assert.match(edge.output(), /--tls-key: .* is not the private key of the certificate/);
    assert.ok(!edge.output().includes((await readFile(untrusted.keyFile, 'utf8')).split('\n')[1]!), 'the key never reaches the log');
    assert.equal(await servedFingerprint(edge.url), second);
    assert.equal(edge.child.exitCode, null, 'still running');
    await writeFile(keyFile, await readFile(renewed.keyFile));
  });
});
