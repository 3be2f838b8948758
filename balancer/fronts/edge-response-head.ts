// An edge's HTTP/1.1 response head as the proxy fast path reads it off a raw connection: status,
// fields, how its body is framed (RFC 9112 §6.3), and whether the connection can carry the next
// request. Anything it cannot read safely is an error, so the try fails before the viewer gets
// a byte.

export type BodyFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly bytes: number }
  | { readonly kind: 'chunked' }
  /** Until the edge closes the connection. */
  | { readonly kind: 'close' };

export interface EdgeResponseHead {
  readonly status: number;
  readonly reason: string;
  /** Field names lower-cased; a repeated field keeps every value. */
  readonly headers: Record<string, string | string[]>;
  readonly framing: BodyFraming;
  /** The connection may be reused once the body is read. */
  readonly reusable: boolean;
  /** Bytes the head occupies, blank line included. */
  readonly length: number;
}

export type ResponseHeadParse = { readonly kind: 'incomplete' } | { readonly kind: 'head'; readonly head: EdgeResponseHead } | { readonly kind: 'malformed'; readonly reason: string };

const INCOMPLETE: ResponseHeadParse = Object.freeze({ kind: 'incomplete' });
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// A byte no head may hold: a control other than HTAB, DEL, or a CR or LF outside a CRLF pair.
// One scan of the whole head instead of a pattern per field value.
// eslint-disable-next-line no-control-regex
const INVALID_HEAD_BYTE = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|(?<!\r)\n/;

function malformed(reason: string): ResponseHeadParse {
  return { kind: 'malformed', reason: `malformed response from edge: ${reason}` };
}

/** Reads a response head to a request with `method`. */
export function parseResponseHead(buffer: Buffer, method: string, maxHeadBytes: number): ResponseHeadParse {
  const end = buffer.indexOf('\r\n\r\n');
  if (end === -1) return buffer.length >= maxHeadBytes ? malformed('head too large') : INCOMPLETE;
  if (end + 4 > maxHeadBytes) return malformed('head too large');
  const text = buffer.toString('latin1', 0, end);
  const invalid = INVALID_HEAD_BYTE.exec(text);
  const lines = text.split('\r\n');
  const statusLine = STATUS_LINE.exec(lines[0]!);
  if (!statusLine || (invalid && invalid.index < lines[0]!.length)) return malformed('status line');
  if (invalid) return malformed(`field line ${text.slice(0, invalid.index).split('\r\n').length - 1}`);
  const headers: Record<string, string | string[]> = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) return malformed(`field line ${i}`);
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return malformed(`field line ${i}`);
    const value = line.slice(colon + 1).trim();
    const lowerName = name.toLowerCase();
    const known = headers[lowerName];
    headers[lowerName] = known === undefined ? value : [known, value].flat();
  }
  const status = Number(statusLine[2]);
  const connection = [headers.connection ?? []].flat().join(',').toLowerCase();
  let reusable = statusLine[1] === '1' ? !/(?:^|,)\s*close\s*(?:,|$)/.test(connection) : /(?:^|,)\s*keep-alive\s*(?:,|$)/.test(connection);
  const transferEncoding = headers['transfer-encoding'];
  const contentLength = headers['content-length'];
  let framing: BodyFraming;
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) framing = { kind: 'none' };
  else if (transferEncoding !== undefined) {
    // Chunked must be the final coding; anything else is read until the edge closes.
    const codings = [transferEncoding].flat().join(',').split(',').map((coding) => coding.trim().toLowerCase());
    if (contentLength !== undefined) return malformed('both Transfer-Encoding and Content-Length');
    framing = codings.at(-1) === 'chunked' ? { kind: 'chunked' } : { kind: 'close' };
  } else if (contentLength !== undefined) {
    if (typeof contentLength !== 'string' || !/^\d{1,15}$/.test(contentLength)) return malformed('Content-Length');
    framing = { kind: 'length', bytes: Number(contentLength) };
  } else framing = { kind: 'close' };
  if (framing.kind === 'close') reusable = false;
  return { kind: 'head', head: { status, reason: statusLine[3] ?? '', headers, framing, reusable, length: end + 4 } };
}

const MAX_CHUNK_LINE = 4096;

/**
 * Finds where a chunked body ends (RFC 9112 §7.1) as its bytes pass by, so the connection can be
 * reused; the bytes themselves go to the viewer unchanged.
 */
export class ChunkedBodyEnd {
  private state: 'size' | 'data' | 'trailer' = 'size';
  private line = '';
  /** Data bytes left in the current chunk, with its closing CRLF. */
  private remaining = 0;

  /** The offset just past the body's end in `chunk`, or -1 when it goes on; throws on a malformed body. */
  scan(chunk: Buffer): number {
    let at = 0;
    while (at < chunk.length) {
      if (this.state === 'data') {
        const take = Math.min(this.remaining, chunk.length - at);
        at += take;
        this.remaining -= take;
        if (this.remaining === 0) this.state = 'size';
        continue;
      }
      const newline = chunk.indexOf(0x0a, at);
      const stop = newline === -1 ? chunk.length : newline;
      this.line += chunk.toString('latin1', at, stop);
      if (this.line.length > MAX_CHUNK_LINE) throw new Error('malformed chunked body from edge: line too long');
      if (newline === -1) return -1;
      at = newline + 1;
      const line = this.line.replace(/\r$/, '');
      this.line = '';
      if (this.state === 'trailer') {
        if (line === '') return at;
        continue;
      }
      const size = /^([0-9A-Fa-f]{1,12})[\t ]*(?:;.*)?$/.exec(line);
      if (!size) throw new Error('malformed chunked body from edge: chunk size');
      this.remaining = parseInt(size[1]!, 16) + 2;
      this.state = this.remaining === 2 ? 'trailer' : 'data';
    }
    return -1;
  }
}
