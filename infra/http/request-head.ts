// A deliberately narrow HTTP/1.1 request-head reader for the fast paths (the edge's hits, the
// balancer's proxied GETs). It recognises only the common, unambiguous shape of a viewer's request
// (a body-less GET or HEAD in strict RFC 9112 syntax) and calls everything else "other", which
// goes to Node's full HTTP parser. It never rejects anything itself, so it cannot disagree with
// Node about where a request ends: anything that could frame a body (Content-Length,
// Transfer-Encoding), change the connection (Upgrade, Connection other than keep-alive, Expect) or
// be read two ways (bare LF, folded or repeated fields, non-ASCII bytes) is "other".

export interface SimpleRequestHead {
  readonly method: 'GET' | 'HEAD';
  /** The request target as sent (origin-form: starts with '/'). */
  readonly target: string;
  /** Field names lower-cased; every field appears once. */
  readonly headers: ReadonlyMap<string, string>;
  /** Bytes the head occupies, blank line included: where the next pipelined request starts. */
  readonly length: number;
  /** The field lines as sent (each with its CRLF): a next head with the same bytes has the same fields. */
  readonly fieldBlock: Buffer;
}

export type RequestHeadParse =
  /** No complete head in the buffer yet. */
  | { readonly kind: 'incomplete' }
  /** Not the simple shape: Node's parser decides (answers, or rejects with 400/431). */
  | { readonly kind: 'other' }
  | { readonly kind: 'simple'; readonly head: SimpleRequestHead };

const INCOMPLETE: RequestHeadParse = Object.freeze({ kind: 'incomplete' });
const OTHER: RequestHeadParse = Object.freeze({ kind: 'other' });

const REQUEST_LINE = /^(GET|HEAD) (\/[\x21-\x7e]*) HTTP\/1\.1$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Visible ASCII, space and tab: no CR, LF, NUL or other controls, no obs-text.
const FIELD_VALUE = /^[\t\x20-\x7e]*$/;
// Fields that frame a body or change what the connection carries: left to Node.
const NOT_SIMPLE = new Set(['content-length', 'transfer-encoding', 'upgrade', 'expect', 'http2-settings']);

function isSpaceOrTab(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * Reads the head at the start of `buffer`. A client sends the same fields with each request of a
 * connection; when they are byte for byte `previous`'s, its field map is reused (same checks,
 * same answer) rather than read again.
 */
export function parseRequestHead(buffer: Buffer, maxHeadBytes: number, previous?: SimpleRequestHead): RequestHeadParse {
  const end = buffer.indexOf('\r\n\r\n');
  if (end === -1) return buffer.length >= maxHeadBytes ? OTHER : INCOMPLETE;
  const length = end + 4;
  if (length > maxHeadBytes) return OTHER;
  const lineEnd = buffer.indexOf('\r\n');
  // No field lines, so no Host.
  if (lineEnd === end) return OTHER;
  const requestLine = REQUEST_LINE.exec(buffer.toString('latin1', 0, lineEnd));
  if (!requestLine) return OTHER;
  const method = requestLine[1] as 'GET' | 'HEAD';
  const target = requestLine[2]!;
  const fieldBlock = buffer.subarray(lineEnd + 2, end + 2);
  if (previous?.fieldBlock.equals(fieldBlock)) return { kind: 'simple', head: { method, target, headers: previous.headers, length, fieldBlock: previous.fieldBlock } };
  const lines = buffer.toString('latin1', lineEnd + 2, end).split('\r\n');
  const headers = new Map<string, string>();
  for (const line of lines) {
    // field-name ":" OWS field-value OWS. Plain scans, not one clever pattern: no backtracking
    // on long runs of spaces. A stray CR or LF fails FIELD_VALUE; a folded line fails TOKEN.
    const colon = line.indexOf(':');
    if (colon <= 0) return OTHER;
    const name = line.slice(0, colon);
    if (!TOKEN.test(name) || !FIELD_VALUE.test(line)) return OTHER;
    let start = colon + 1;
    let stop = line.length;
    while (start < stop && isSpaceOrTab(line.charCodeAt(start))) start++;
    while (stop > start && isSpaceOrTab(line.charCodeAt(stop - 1))) stop--;
    const lowerName = name.toLowerCase();
    if (headers.has(lowerName) || NOT_SIMPLE.has(lowerName)) return OTHER;
    headers.set(lowerName, line.slice(start, stop));
  }
  if (!headers.has('host')) return OTHER;
  const connection = headers.get('connection');
  if (connection !== undefined && connection.toLowerCase() !== 'keep-alive') return OTHER;
  // A copy: the read buffer it came from is not held for as long as the connection lives.
  return { kind: 'simple', head: { method, target, headers, length, fieldBlock: Buffer.from(fieldBlock) } };
}

/** What a fast path does next with the bytes it holds of a connection: a head to answer, or one of these. */
export type NextRequest = SimpleRequestHead | 'wait' | 'end' | 'hand-over';

/**
 * The next step for a fast path holding `pending`: answer a simple head; end the connection once
 * the client has closed its side (everything it asked for is answered, or was cut short); wait
 * for a first byte; or hand the connection to node:http — for another shape, and for a head split
 * across packets (rare), whose rest node:http reads with its header timeout. `previous` is the
 * connection's last head (see parseRequestHead).
 */
export function nextRequest(pending: Buffer, maxHeadBytes: number, clientEnded: boolean, previous?: SimpleRequestHead): NextRequest {
  const parsed = parseRequestHead(pending, maxHeadBytes, previous);
  if (parsed.kind === 'simple') return parsed.head;
  if (parsed.kind === 'other') return 'hand-over';
  if (clientEnded) return 'end';
  return pending.length > 0 ? 'hand-over' : 'wait';
}
