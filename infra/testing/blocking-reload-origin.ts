// A stand-in Low-Latency HLS origin on port 0 for edge and balancer tests: one rendition whose
// parts the test publishes itself, with the origin contract's blocking reloads (`_HLS_msn`/`_HLS_part` held until
// that part exists, at most 3 target durations, then 503), held requests for the preload-hinted
// part, 404 for other missing parts and 400 for bad directives. Several servers may share one
// rendition, as origin replicas share their live store.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const RENDITION = '/live/ll/480p';
const TARGET_DURATION = 2;
const PART_TARGET = 0.333;
const PARTS_PER_SEGMENT = 6;

/** The rendition every replica serves: parts appear when the test publishes them. */
export class LowLatencyRendition {
  /** Parts published so far, as [msn, part] of the latest one ([0, -1] before any). */
  #latest: [number, number] = [0, -1];
  readonly #waiting = new Set<() => void>();
  /** How long a replica holds a request before 503 (the contract: 3 target durations). */
  holdMs = 3 * TARGET_DURATION * 1000;

  /** Publishes the next part (and completes its segment after the last part). */
  publishPart(): [number, number] {
    const [msn, part] = this.#latest;
    this.#latest = part + 1 === PARTS_PER_SEGMENT ? [msn + 1, 0] : [msn, part + 1];
    for (const wake of [...this.#waiting]) wake();
    return this.#latest;
  }

  get latest(): [number, number] {
    return this.#latest;
  }

  has(msn: number, part: number): boolean {
    const [latestMsn, latestPart] = this.#latest;
    return msn < latestMsn || (msn === latestMsn && part <= latestPart);
  }

  /** The next part not yet published: the preload hint. */
  hint(): [number, number] {
    const [msn, part] = this.#latest;
    return part + 1 === PARTS_PER_SEGMENT ? [msn + 1, 0] : [msn, part + 1];
  }

  /** Resolves true once `ready()` holds, false after holdMs. */
  waitUntil(ready: () => boolean): Promise<boolean> {
    if (ready()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = (): void => {
        if (!ready()) return;
        done(true);
      };
      const timer = setTimeout(() => done(false), this.holdMs);
      const done = (value: boolean): void => {
        clearTimeout(timer);
        this.#waiting.delete(wake);
        resolve(value);
      };
      this.#waiting.add(wake);
    });
  }

  playlist(): string {
    const [msn, part] = this.#latest;
    const lines = ['#EXTM3U', '#EXT-X-VERSION:9', `#EXT-X-TARGETDURATION:${TARGET_DURATION}`,
      `#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=${(3 * PART_TARGET).toFixed(3)},CAN-SKIP-UNTIL=${6 * TARGET_DURATION}`,
      `#EXT-X-PART-INF:PART-TARGET=${PART_TARGET}`, '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-MAP:URI="init.mp4"'];
    for (let segment = 0; segment <= msn; segment++) {
      const parts = segment < msn ? PARTS_PER_SEGMENT : part + 1;
      for (let index = 0; index < parts; index++) lines.push(`#EXT-X-PART:DURATION=${PART_TARGET},URI="seg-${segment}.${index}.m4s"${index === 0 ? ',INDEPENDENT=YES' : ''}`);
      if (segment < msn) lines.push(`#EXTINF:${(PART_TARGET * PARTS_PER_SEGMENT).toFixed(3)},`, `seg-${segment}.m4s`);
    }
    const [hintMsn, hintPart] = this.hint();
    lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-${hintMsn}.${hintPart}.m4s"`);
    return `${lines.join('\n')}\n`;
  }
}

export interface BlockingOrigin {
  readonly url: string;
  /** Requests seen, target as sent (query included), in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

export function partBody(msn: number, part: number): Buffer {
  return Buffer.from(`part ${msn}.${part} `.repeat(200));
}

function send(res: ServerResponse, status: number, body: Buffer | string, cacheControl: string, contentType = 'text/plain'): void {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': String(bytes.length),
    'cache-control': cacheControl,
    ...(status === 200 ? { etag: `"${createHash('sha256').update(bytes).digest('hex')}"` } : {}),
  });
  res.end(bytes);
}

async function answer(rendition: LowLatencyRendition, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://origin');
  if (url.pathname === `${RENDITION}/index.m3u8`) {
    const msnText = url.searchParams.get('_HLS_msn');
    const partText = url.searchParams.get('_HLS_part');
    if ((msnText !== null && !/^\d+$/.test(msnText)) || (partText !== null && (!/^\d+$/.test(partText) || msnText === null))) {
      send(res, 400, 'bad delivery directive', 'no-store');
      return;
    }
    if (msnText === null) {
      send(res, 200, rendition.playlist(), 'max-age=1', 'application/vnd.apple.mpegurl');
      return;
    }
    const msn = Number(msnText);
    // Without _HLS_part, the whole segment: its last part.
    const part = partText === null ? PARTS_PER_SEGMENT - 1 : Number(partText);
    if (!(await rendition.waitUntil(() => rendition.has(msn, part)))) {
      send(res, 503, 'part not available in time', 'no-store');
      return;
    }
    send(res, 200, rendition.playlist(), `max-age=${6 * TARGET_DURATION}`, 'application/vnd.apple.mpegurl');
    return;
  }
  const partName = new RegExp(`^${RENDITION}/seg-(\\d+)\\.(\\d+)\\.m4s$`).exec(url.pathname);
  if (partName) {
    const [msn, part] = [Number(partName[1]), Number(partName[2])];
    const [hintMsn, hintPart] = rendition.hint();
    if (!rendition.has(msn, part) && !(msn === hintMsn && part === hintPart)) {
      send(res, 404, 'no such part', 'no-store');
      return;
    }
    if (!(await rendition.waitUntil(() => rendition.has(msn, part)))) {
      send(res, 503, 'part not available in time', 'no-store');
      return;
    }
    send(res, 200, partBody(msn, part), 'max-age=3600', 'video/mp4');
    return;
  }
  send(res, 404, 'not found', 'no-store');
}

/** One replica serving `rendition`. */
export async function startBlockingOrigin(rendition: LowLatencyRendition): Promise<BlockingOrigin> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '/');
    void answer(rendition, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
