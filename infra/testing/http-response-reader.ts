// A strict HTTP/1.1 response reader for the fuzzer: it reads the bytes a server sent on one
// connection, in order, and says whether they are well-formed responses (RFC 9112 status line,
// header fields without obs-fold, CR, LF or NUL in values, one framing) or where they stop being so.

export interface ParsedResponse {
  readonly status: number;
  /** Field names lower-cased, in order, values as sent (a name may repeat). */
  readonly fields: readonly (readonly [string, string])[];
  readonly body: Buffer;
  /** Interim (1xx) responses that came before this one. */
  readonly interim: number;
}

export type ReadResult =
  /** Every byte so far belongs to complete responses. */
  | { readonly kind: 'complete'; readonly responses: readonly ParsedResponse[] }
  /** The last response is not all in yet (more bytes, or the close, will tell). */
  | { readonly kind: 'partial'; readonly responses: readonly ParsedResponse[] }
  | { readonly kind: 'invalid'; readonly responses: readonly ParsedResponse[]; readonly reason: string };

const STATUS_LINE = /^HTTP\/1\.[01] ([1-5]\d\d)(?: [\t\x20-\x7e\x80-\xff]*)?$/;
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible characters, spaces and tabs, obs-text; never CR, LF or NUL (RFC 9110 §5.5).
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const CHUNK_SIZE_LINE = /^([0-9a-fA-F]{1,15})(?:[ \t]*;[^\r\n]*)?$/;

class Invalid extends Error {}
class NeedMore extends Error {}

function field(fields: readonly (readonly [string, string])[], name: string): string[] {
  return fields.filter(([n]) => n === name).map(([, v]) => v);
}

/** The value of a response's field, values of a repeated one joined with ", ". */
export function responseField(response: ParsedResponse, name: string): string | undefined {
  const values = field(response.fields, name.toLowerCase());
  return values.length > 0 ? values.join(', ') : undefined;
}

/**
 * Reads `bytes` as the responses to requests with these methods, in order. `closed` says the
 * server has closed, so a body without a length ends here.
 */
export function readResponses(bytes: Buffer, methods: readonly string[], closed: boolean): ReadResult {
  const responses: ParsedResponse[] = [];
  let offset = 0;
  try {
    while (offset < bytes.length) {
      if (responses.length >= methods.length) throw new Invalid(`${bytes.length - offset} bytes after the ${methods.length} response(s) expected`);
      const { response, end } = readOne(bytes, offset, methods[responses.length]!, closed);
      responses.push(response);
      offset = end;
      const connection = (responseField(response, 'connection') ?? '').toLowerCase();
      if (/(?:^|,)\s*close\s*(?:,|$)/.test(connection) && offset < bytes.length) throw new Invalid('bytes after a response that said Connection: close');
    }
    return { kind: 'complete', responses };
  } catch (error) {
    if (error instanceof NeedMore) return { kind: 'partial', responses };
    if (error instanceof Invalid) return { kind: 'invalid', responses, reason: error.message };
    throw error;
  }
}

function readLine(bytes: Buffer, offset: number, what: string): { line: string; end: number } {
  const lf = bytes.indexOf(0x0a, offset);
  if (lf === -1) {
    if (bytes.length - offset > 64 * 1024) throw new Invalid(`${what} longer than 64 KB`);
    throw new NeedMore();
  }
  if (lf === offset || bytes[lf - 1] !== 0x0d) throw new Invalid(`${what} not ended by CRLF`);
  return { line: bytes.toString('latin1', offset, lf - 1), end: lf + 1 };
}

function readHead(bytes: Buffer, start: number): { status: number; fields: [string, string][]; end: number } {
  const statusLine = readLine(bytes, start, 'status line');
  const match = STATUS_LINE.exec(statusLine.line);
  if (!match) throw new Invalid(`bad status line ${JSON.stringify(statusLine.line.slice(0, 80))}`);
  const fields: [string, string][] = [];
  let offset = statusLine.end;
  for (;;) {
    const { line, end } = readLine(bytes, offset, 'header line');
    offset = end;
    if (line === '') break;
    if (line.startsWith(' ') || line.startsWith('\t')) throw new Invalid('obs-fold in a response header');
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (colon <= 0 || !FIELD_NAME.test(name)) throw new Invalid(`bad header line ${JSON.stringify(line.slice(0, 80))}`);
    if (!FIELD_VALUE.test(value)) throw new Invalid(`control character in the value of ${name}`);
    fields.push([name.toLowerCase(), value]);
  }
  return { status: Number(match[1]), fields, end: offset };
}

function readChunked(bytes: Buffer, start: number): { body: Buffer; end: number } {
  const parts: Buffer[] = [];
  let offset = start;
  for (;;) {
    const sizeLine = readLine(bytes, offset, 'chunk size line');
    const match = CHUNK_SIZE_LINE.exec(sizeLine.line);
    if (!match) throw new Invalid(`bad chunk size line ${JSON.stringify(sizeLine.line.slice(0, 40))}`);
    const size = parseInt(match[1]!, 16);
    offset = sizeLine.end;
    if (size === 0) break;
    if (bytes.length < offset + size + 2) throw new NeedMore();
    parts.push(bytes.subarray(offset, offset + size));
    if (bytes[offset + size] !== 0x0d || bytes[offset + size + 1] !== 0x0a) throw new Invalid('chunk data not followed by CRLF');
    offset += size + 2;
  }
  for (;;) {
    const trailer = readLine(bytes, offset, 'trailer line');
    offset = trailer.end;
    if (trailer.line === '') break;
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[\t\x20-\x7e\x80-\xff]*$/.test(trailer.line)) throw new Invalid('bad trailer line');
  }
  return { body: Buffer.concat(parts), end: offset };
}

function readOne(bytes: Buffer, start: number, method: string, closed: boolean): { response: ParsedResponse; end: number } {
  let interim = 0;
  let offset = start;
  for (;;) {
    const head = readHead(bytes, offset);
    offset = head.end;
    if (head.status === 101) throw new Invalid('101 Switching Protocols to a fuzz request');
    if (head.status < 200) {
      interim++;
      continue;
    }
    const lengths = field(head.fields, 'content-length');
    const codings = field(head.fields, 'transfer-encoding');
    if (lengths.length > 0 && codings.length > 0) throw new Invalid('both Content-Length and Transfer-Encoding');
    if (lengths.length > 1 && new Set(lengths).size > 1) throw new Invalid('conflicting Content-Length fields');
    if (lengths.length > 0 && !/^\d{1,15}$/.test(lengths[0]!)) throw new Invalid(`bad Content-Length ${JSON.stringify(lengths[0])}`);
    const bodiless = method === 'HEAD' || head.status === 204 || head.status === 304;
    if (bodiless && head.status === 204 && (lengths.length > 0 || codings.length > 0)) throw new Invalid('framing fields on a 204');
    let body: Buffer;
    if (bodiless) {
      body = Buffer.alloc(0);
    } else if (codings.length > 0) {
      if (codings.join(',').trim().toLowerCase() !== 'chunked') throw new Invalid(`unexpected Transfer-Encoding ${codings.join(',')}`);
      ({ body, end: offset } = readChunked(bytes, offset));
    } else if (lengths.length > 0) {
      const length = Number(lengths[0]);
      if (bytes.length < offset + length) throw new NeedMore();
      body = bytes.subarray(offset, offset + length);
      offset += length;
    } else {
      // Delimited by the close (RFC 9112 §6.3 rule 8).
      if (!closed) throw new NeedMore();
      body = bytes.subarray(offset);
      offset = bytes.length;
    }
    return { response: { status: head.status, fields: head.fields, body, interim }, end: offset };
  }
}
