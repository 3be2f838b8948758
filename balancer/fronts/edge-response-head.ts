// An edge's HTTP/1.1 response head as the proxy fast path reads it off a raw connection: status,
// fields, how its body is framed (RFC 9112 §6.3), and whether the connection can carry the next
// request. Anything it cannot read safely is an error, so the try fails before the viewer gets
// a byte.
import { HOP_BY_HOP_FIELDS, connectionListed } from '../../infra/http/hop-by-hop.js';

export type BodyFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly bytes: number }
  | { readonly kind: 'chunked' }
  /** Until the edge closes the connection. */
  | { readonly kind: 'close' };

export interface EdgeResponseHead {
  readonly status: number;
  readonly reason: string;
  /** Field names lower-cased; a repeated field keeps every value. Made when first read. */
  readonly headers: Record<string, string | string[]>;
  readonly framing: BodyFraming;
  /** The connection may be reused once the body is read. */
  readonly reusable: boolean;
  /** Bytes the head occupies, blank line included. */
  readonly length: number;
  /**
   * The response the viewer gets, in one buffer: this head as the edge sent it in `source` (the
   * buffer parsed) without its hop-by-hop fields, then `connectionFields` (`name: value\r\n`…, the
   * viewer connection's own), then `body`.
   */
  forViewer(source: Buffer, connectionFields: string, body: Buffer): Buffer;
}

export type ResponseHeadParse = { readonly kind: 'incomplete' } | { readonly kind: 'head'; readonly head: EdgeResponseHead } | { readonly kind: 'malformed'; readonly reason: string };

const INCOMPLETE: ResponseHeadParse = Object.freeze({ kind: 'incomplete' });
const NO_BODY: BodyFraming = Object.freeze({ kind: 'none' });
const CHUNKED: BodyFraming = Object.freeze({ kind: 'chunked' });
const UNTIL_CLOSE: BodyFraming = Object.freeze({ kind: 'close' });
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
// A control other than HTAB, CR and LF, or DEL; CR and LF are checked as line ends.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;
const KEEP_ALIVE_OR_CLOSE = /^[\t ]*(?:keep-alive|close)[\t ]*$/i;
const CR = 0x0d;
const COLON = 0x3a;
const TOKEN_CHARS = new Uint8Array(128);
for (const char of "!#$%&'*+.^_`|~-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TOKEN_CHARS[char.charCodeAt(0)] = 1;

function malformed(reason: string): ResponseHeadParse {
  return { kind: 'malformed', reason: `malformed response from edge: ${reason}` };
}

function isSpaceOrTab(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** The value of the field line `text[lineStart, lineEnd)` whose colon is at `colon`, without OWS. */
function fieldValue(text: string, colon: number, lineEnd: number): string {
  let start = colon + 1;
  let stop = lineEnd;
  while (start < stop && isSpaceOrTab(text.charCodeAt(start))) start++;
  while (stop > start && isSpaceOrTab(text.charCodeAt(stop - 1))) stop--;
  return text.slice(start, stop);
}

/** Where each field line of a head is: the fast path copies kept lines as bytes, not as strings. */
interface FieldLines {
  /** Lower-cased names. */
  readonly names: string[];
  readonly starts: number[];
  readonly colons: number[];
  /** Where each line's CRLF starts. */
  readonly ends: number[];
}

class ParsedResponseHead implements EdgeResponseHead {
  #headers: Record<string, string | string[]> | undefined;

  constructor(
    readonly status: number,
    readonly reason: string,
    readonly framing: BodyFraming,
    readonly reusable: boolean,
    readonly length: number,
    private readonly text: string,
    private readonly lines: FieldLines,
    /** Field names the head's Connection field lists: dropped with the hop-by-hop set. */
    private readonly listed: ReadonlySet<string> | undefined,
  ) {}

  get headers(): Record<string, string | string[]> {
    if (this.#headers) return this.#headers;
    const headers: Record<string, string | string[]> = {};
    const { names, colons, ends } = this.lines;
    for (let i = 0; i < names.length; i++) {
      const value = fieldValue(this.text, colons[i]!, ends[i]!);
      const known = headers[names[i]!];
      headers[names[i]!] = known === undefined ? value : [known, value].flat();
    }
    return (this.#headers = headers);
  }

  forViewer(source: Buffer, connectionFields: string, body: Buffer): Buffer {
    const { names, starts, ends } = this.lines;
    const statusLine = `HTTP/1.1 ${this.status} ${this.reason}\r\n`;
    const tail = `${this.framing.kind === 'chunked' ? 'transfer-encoding: chunked\r\n' : ''}${this.framing.kind === 'close' ? 'connection: close\r\n' : connectionFields}\r\n`;
    // Kept lines as runs of bytes: usually one or two copies, the hop-by-hop fields being few.
    const runs: number[] = [];
    let size = statusLine.length + tail.length + body.length;
    for (let i = 0; i < names.length; i++) {
      if (HOP_BY_HOP_FIELDS.has(names[i]!) || this.listed?.has(names[i]!)) continue;
      const lineEnd = ends[i]! + 2;
      if (runs.length > 0 && runs[runs.length - 1] === starts[i]) runs[runs.length - 1] = lineEnd;
      else runs.push(starts[i]!, lineEnd);
      size += lineEnd - starts[i]!;
    }
    const response = Buffer.allocUnsafe(size);
    let at = response.write(statusLine, 0, 'latin1');
    for (let i = 0; i < runs.length; i += 2) at += source.copy(response, at, runs[i], runs[i + 1]);
    at += response.write(tail, at, 'latin1');
    body.copy(response, at);
    return response;
  }
}

/** Reads a response head to a request with `method`. */
export function parseResponseHead(buffer: Buffer, method: string, maxHeadBytes: number): ResponseHeadParse {
  const end = buffer.indexOf('\r\n\r\n');
  if (end === -1) return buffer.length >= maxHeadBytes ? malformed('head too large') : INCOMPLETE;
  if (end + 4 > maxHeadBytes) return malformed('head too large');
  // One string for the whole head, walked by offsets; the blank line's CRLF ends the last line.
  const text = buffer.toString('latin1', 0, end + 2);
  const control = CONTROL.exec(text);
  let lineEnd = text.indexOf('\n');
  if (lineEnd < 1 || text.charCodeAt(lineEnd - 1) !== CR || text.indexOf('\r') !== lineEnd - 1 || (control && control.index < lineEnd)) return malformed('status line');
  lineEnd--;
  const statusLine = STATUS_LINE.exec(text.slice(0, lineEnd));
  if (!statusLine) return malformed('status line');
  const lines: FieldLines = { names: [], starts: [], colons: [], ends: [] };
  let connection: string | undefined;
  let transferEncoding: string | undefined;
  let contentLength: string | undefined;
  let contentLengths = 0;
  for (let line = 1, start = lineEnd + 2; start < text.length; line++, start = lineEnd + 2) {
    // Each line ends in CRLF, with no CR or LF before it, and holds no control.
    const newline = text.indexOf('\n', start);
    lineEnd = newline - 1;
    if (newline <= start || text.charCodeAt(lineEnd) !== CR || text.indexOf('\r', start) !== lineEnd || (control && control.index < lineEnd)) return malformed(`field line ${line}`);
    let colon = start;
    while (colon < lineEnd && TOKEN_CHARS[text.charCodeAt(colon)] === 1) colon++;
    if (colon === start || colon === lineEnd || text.charCodeAt(colon) !== COLON) return malformed(`field line ${line}`);
    const name = text.slice(start, colon).toLowerCase();
    lines.names.push(name);
    lines.starts.push(start);
    lines.colons.push(colon);
    lines.ends.push(lineEnd);
    if (name === 'connection') connection = connection === undefined ? fieldValue(text, colon, lineEnd) : `${connection},${fieldValue(text, colon, lineEnd)}`;
    else if (name === 'transfer-encoding') transferEncoding = transferEncoding === undefined ? fieldValue(text, colon, lineEnd) : `${transferEncoding},${fieldValue(text, colon, lineEnd)}`;
    else if (name === 'content-length') {
      contentLength = fieldValue(text, colon, lineEnd);
      contentLengths++;
    }
  }
  const status = Number(statusLine[2]);
  const connectionTokens = connection === undefined ? undefined : connection.toLowerCase();
  let reusable = statusLine[1] === '1' ? !/(?:^|,)\s*close\s*(?:,|$)/.test(connectionTokens ?? '') : /(?:^|,)\s*keep-alive\s*(?:,|$)/.test(connectionTokens ?? '');
  let framing: BodyFraming;
  if (method === 'HEAD' || status < 200 || status === 204 || status === 304) framing = NO_BODY;
  else if (transferEncoding !== undefined) {
    // Chunked must be the final coding; anything else is read until the edge closes.
    if (contentLength !== undefined) return malformed('both Transfer-Encoding and Content-Length');
    framing = transferEncoding.split(',').at(-1)!.trim().toLowerCase() === 'chunked' ? CHUNKED : UNTIL_CLOSE;
  } else if (contentLength !== undefined) {
    if (contentLengths > 1 || !/^\d{1,15}$/.test(contentLength)) return malformed('Content-Length');
    framing = { kind: 'length', bytes: Number(contentLength) };
  } else framing = UNTIL_CLOSE;
  if (framing.kind === 'close') reusable = false;
  // Nearly every edge says only `keep-alive`: no field names listed to drop then.
  const listed = connection === undefined || KEEP_ALIVE_OR_CLOSE.test(connection) ? undefined : connectionListed(connection);
  return { kind: 'head', head: new ParsedResponseHead(status, statusLine[3] ?? '', framing, reusable, end + 4, text, lines, listed) };
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
