// A bench client's HTTP/1.1 connection on a raw keep-alive socket: one request at a time, a
// prebuilt request head, and only the framing the servers under test use for these answers (a
// status line and a Content-Length). 1,000 LL-HLS pollers sharing two cores with the servers cannot
// afford a general client's per-request work; anything outside that framing (chunked, no length,
// bytes past the body, a malformed head) is a failure with a named reason, never read as an answer.
// (infra/testing/http-response-reader.ts is the fuzzer's strict reader of a whole exchange: it
// checks every field of every answer, the work this client exists to skip.)
import { connect, type Socket } from 'node:net';

export interface RawConnectionOptions {
  readonly host: string;
  readonly port: number;
  /** A request must be answered in full within this long, connecting included. */
  readonly timeoutMs: number;
  /** A response head (status line and fields) longer than this is refused. */
  readonly maxHeadBytes: number;
  /** A declared Content-Length over this is refused before its body is read. */
  readonly maxBodyBytes: number;
  /**
   * Receive buffer, shared by every connection on a thread: each read is consumed (or copied out)
   * before the next one lands, so 1,000 sockets need not hold 1,000 buffers.
   */
  readonly readBuffer: Buffer;
}

export interface RawResponse {
  readonly status: number;
  /** The body if it was asked for or the status is not 200 (for a failure's reason); otherwise empty. */
  readonly body: Buffer;
  /** The body's length as received, always equal to its Content-Length. */
  readonly bodyBytes: number;
}

/** A request that got no usable answer; `reason` is short and stable, so one cause counts as one reason. */
export class RawHttpFailure extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'RawHttpFailure';
  }
}

const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-5]\d\d)(?: |\r|$)/;
const DIGITS = /^\d{1,15}$/;

interface Pending {
  readonly keepBody: boolean;
  readonly resolve: (response: RawResponse) => void;
  readonly reject: (failure: RawHttpFailure) => void;
  readonly timer: NodeJS.Timeout;
  /** Head bytes received so far, until the blank line. */
  head: Buffer | undefined;
  status: number;
  /** Body bytes still due; -1 while the head is incomplete. */
  remaining: number;
  bodyBytes: number;
  chunks: Buffer[];
  closeAfter: boolean;
}

/** A field's value (the first, trimmed) in a lower-cased head, and whether it appears again. */
function fieldOf(head: string, name: string): { value: string; repeated: string | undefined } | undefined {
  const at = head.indexOf(`\r\n${name}:`);
  if (at < 0) return undefined;
  const read = (from: number): string => {
    const end = head.indexOf('\r\n', from);
    return head.slice(from, end < 0 ? head.length : end).trim();
  };
  const again = head.indexOf(`\r\n${name}:`, at + 2);
  return { value: read(at + name.length + 3), repeated: again < 0 ? undefined : read(again + name.length + 3) };
}

/**
 * The framing of a response head (status line and fields, without the blank line): its status,
 * body length and whether the server closes after it. Only the three fields framing depends on are
 * looked up (a full field parse per answer is most of a general client's cost here); a field
 * written other than `name:` at a line's start is not recognised, and a missing Content-Length fails.
 */
export function parseResponseHead(head: string): { status: number; contentLength: number; closeAfter: boolean } {
  const statusLine = STATUS_LINE.exec(head);
  if (!statusLine) throw new RawHttpFailure('malformed status line');
  const fields = head.toLowerCase();
  const encoding = fieldOf(fields, 'transfer-encoding');
  // Chunked framing is legal HTTP, but not what these servers send for a part or a playlist: a
  // change there is to be seen, not absorbed.
  if (encoding) throw new RawHttpFailure(`Transfer-Encoding ${encoding.value} response`);
  const length = fieldOf(fields, 'content-length');
  if (!length) throw new RawHttpFailure('response without Content-Length');
  if (!DIGITS.test(length.value)) throw new RawHttpFailure('malformed Content-Length');
  if (length.repeated !== undefined && length.repeated !== length.value) throw new RawHttpFailure('conflicting Content-Length fields');
  const connection = fieldOf(fields, 'connection')?.value;
  // HTTP/1.0 closes unless told otherwise; HTTP/1.1 keeps the connection unless told to close.
  const closeAfter = connection?.includes('close') ? true : connection?.includes('keep-alive') ? false : statusLine[1] === '0';
  return { status: Number(statusLine[2]), contentLength: Number(length.value), closeAfter };
}

/**
 * One keep-alive connection, opened on first use and again after the server closed it or a request
 * failed (a failed connection's framing can no longer be trusted, so it is never reused).
 */
export class RawHttpConnection {
  private socket: Socket | undefined;
  private pending: Pending | undefined;
  /** A fault seen while no request was waiting (e.g. bytes arriving unasked), charged to the next request. */
  private deferredFailure: string | undefined;
  private opened = 0;

  constructor(private readonly options: RawConnectionOptions) {
    if (!(options.timeoutMs > 0)) throw new TypeError('RawHttpConnection: timeoutMs must be positive');
    if (!(options.maxHeadBytes >= 64)) throw new TypeError('RawHttpConnection: maxHeadBytes must be at least 64');
    if (!(options.maxBodyBytes >= 0)) throw new TypeError('RawHttpConnection: maxBodyBytes must be ≥ 0');
    if (options.readBuffer.length < 1024) throw new TypeError('RawHttpConnection: readBuffer must hold at least 1 KiB');
  }

  /** Connections opened so far (1 for a connection kept alive throughout). */
  get connectionsOpened(): number {
    return this.opened;
  }

  /** Sends `head` (a complete request head, CRLF CRLF included) and resolves with the answer. */
  request(head: string, keepBody: boolean): Promise<RawResponse> {
    if (this.pending) return Promise.reject(new Error('RawHttpConnection: one request at a time'));
    return new Promise<RawResponse>((resolve, reject) => {
      const timer = setTimeout(() => this.fail('client timeout'), this.options.timeoutMs);
      this.pending = { keepBody, resolve, reject, timer, head: undefined, status: 0, remaining: -1, bodyBytes: 0, chunks: [], closeAfter: false };
      if (this.deferredFailure !== undefined) {
        const reason = this.deferredFailure;
        this.deferredFailure = undefined;
        this.fail(reason);
        return;
      }
      (this.socket ?? this.open()).write(head, 'latin1');
    });
  }

  /** Closes the connection; a waiting request fails. */
  close(): void {
    if (this.pending) this.fail('connection closed by the client');
    else this.drop();
  }

  private open(): Socket {
    this.opened++;
    const socket = connect({
      host: this.options.host,
      port: this.options.port,
      noDelay: true,
      onread: {
        buffer: this.options.readBuffer,
        callback: (bytes) => {
          this.receive(socket, this.options.readBuffer.subarray(0, bytes));
          return true;
        },
      },
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (this.socket === socket) this.fail(`connection error ${error.code ?? error.message}`);
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      // A keep-alive connection the server closed while idle is simply reopened on the next request.
      if (this.pending) this.fail(this.pending.head === undefined && this.pending.remaining < 0 ? 'connection closed before the response' : 'connection closed mid-response');
    });
    this.socket = socket;
    return socket;
  }

  private receive(socket: Socket, data: Buffer): void {
    if (this.socket !== socket) return;
    const pending = this.pending;
    if (!pending) {
      this.deferredFailure = 'bytes outside any response';
      this.drop();
      return;
    }
    let body = data;
    if (pending.remaining < 0) {
      const head = pending.head ? Buffer.concat([pending.head, data]) : data;
      const end = head.indexOf(HEAD_END);
      if (end < 0) {
        if (head.length > this.options.maxHeadBytes) return this.fail('response head over the limit');
        // Copied: `data` lives in the shared read buffer, overwritten by the next read.
        pending.head = pending.head ? head : Buffer.from(head);
        return;
      }
      if (end > this.options.maxHeadBytes) return this.fail('response head over the limit');
      let framing: ReturnType<typeof parseResponseHead>;
      try {
        framing = parseResponseHead(head.toString('latin1', 0, end));
      } catch (error) {
        return this.fail(error instanceof RawHttpFailure ? error.reason : String(error));
      }
      if (framing.contentLength > this.options.maxBodyBytes) return this.fail('Content-Length over the limit');
      pending.head = undefined;
      pending.status = framing.status;
      pending.remaining = framing.contentLength;
      pending.closeAfter = framing.closeAfter;
      body = head.subarray(end + HEAD_END.length);
    }
    if (body.length > pending.remaining) return this.fail('bytes past the Content-Length');
    pending.remaining -= body.length;
    pending.bodyBytes += body.length;
    if (body.length > 0 && (pending.keepBody || pending.status !== 200)) pending.chunks.push(Buffer.from(body));
    if (pending.remaining === 0) this.complete(pending);
  }

  private complete(pending: Pending): void {
    clearTimeout(pending.timer);
    this.pending = undefined;
    if (pending.closeAfter) this.drop();
    pending.resolve({ status: pending.status, body: pending.chunks.length === 1 ? pending.chunks[0]! : Buffer.concat(pending.chunks), bodyBytes: pending.bodyBytes });
  }

  private fail(reason: string): void {
    const pending = this.pending;
    this.drop();
    if (!pending) return;
    clearTimeout(pending.timer);
    this.pending = undefined;
    pending.reject(new RawHttpFailure(reason));
  }

  private drop(): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.destroy();
  }
}
