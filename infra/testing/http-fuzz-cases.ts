// The fuzzer's request generator: from a seed, a reproducible stream of malformed and adversarial
// HTTP/1.1 exchanges (heads, paths, ranges, conditionals, bodies and smuggling, slow, half-closed,
// pipelined and reset connections), each with what a correct server may answer to it.
import { responseField, type ParsedResponse } from './http-response-reader.js';
import { seededRandom } from './zipf.js';

/** An object the target serves, with the bytes and entity tag its origin has for it. */
export interface KnownObject {
  readonly path: string;
  readonly body: Buffer;
  readonly etag: string;
}

/** One request a case sends that the server may answer: its method and what a right answer is. */
export interface FuzzRequest {
  readonly method: string;
  /** A reason the response is wrong for this request, or undefined. */
  readonly check?: (response: ParsedResponse) => string | undefined;
}

export type FuzzFamily =
  | 'request-line' | 'headers' | 'path' | 'range' | 'conditional' | 'body' | 'smuggling' | 'slow' | 'half-close' | 'pipeline' | 'reset';

/** How the client ends its side. */
export type FuzzEnding =
  /** Reads until every answer is in or the server closes. */
  | 'read'
  /** Sends FIN after the bytes, then reads. */
  | 'half-close'
  /** Resets the connection at once after the bytes. */
  | 'reset'
  /** Resets it when the first response byte arrives. */
  | 'reset-on-first-byte';

export interface FuzzCase {
  readonly family: FuzzFamily;
  /** A short description for a finding (not the bytes, which may be huge). */
  readonly label: string;
  readonly chunks: readonly Buffer[];
  /** Pause between chunks. */
  readonly chunkGapMs: number;
  /** The requests that may be answered, in order: at most this many responses may come. */
  readonly requests: readonly FuzzRequest[];
  readonly ending: FuzzEnding;
  /** Requests sent, for the tally (a pipeline counts each). */
  readonly sent: number;
}

export interface FuzzCaseSource {
  next(): FuzzCase;
}

const CRLF = '\r\n';
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT', 'PURGE', 'PROPFIND', 'BREW'];
const CONTROL_PATHS = [
  '//metrics', '/%6detrics', '/%6Detrics', '/metrics/', '/./metrics', '/vod/../metrics', '/METRICS', '/%2fmetrics', '/%2Fmetrics',
  '/healthz/../metrics', '///metrics', '/metrics;x', '/metrics%00', '/%2e/metrics', '/admin/purge', '//admin/purge', '/%61dmin/purge',
  '/readyz/', '//healthz', '/status', '//status', '/%73tatus', '/metrics?x=1', '/metrics#frag',
];
const TRAVERSALS = [
  '/vod/../../../../etc/passwd', '/vod/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/vod/%252e%252e/%252e%252e/etc/passwd', '/vod/..%2f..%2f..%2fetc/passwd',
  '/vod/..%5c..%5c..%5cetc/passwd', '/vod/..\\..\\..\\etc\\passwd', '/vod/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd', '/vod/demo-ts/..%00/etc/passwd',
  '/vod/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd', '/..;/..;/etc/passwd', '/vod/demo-ts/720p/../../../../../../proc/self/environ',
  '/vod/%u002e%u002e/etc/passwd', '/vod/.%2e/.%2e/.%2e/etc/passwd', '/%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/vod/demo-ts/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
];
const ODD_PATHS = [
  '/', '/vod/', '/vod', '/vod//', '/vod/demo-ts', '/vod/demo-ts/', '/live/', '/vod/%zz/master.m3u8', '/vod/%/x', '/vod/%0/x', '/vod/demo-ts/720p/seg-00001.ts;jsessionid=1',
  '/vod/demo-ts/720p/seg-00001.ts?%zz', '/vod/demo-ts/720p/seg-00001.ts?a=%E0%A4%A', '/vod/demo-ts/master.m3u8?_HLS_msn=-1&_HLS_part=x&_HLS_skip=YES',
  '/vod/d%C3%A9mo/master.m3u8', '/vod/%F0%9F%92%A9/master.m3u8', '/vod/demo-ts/master.m3u8%0d%0aX-Injected:%201', '/vod/x%0d%0aX-Injected:%20yes/master.m3u8',
  '/vod/demo-ts/master.m3u8?st=&exp=-1&pfx=%2F&kid=', '/steering.json?_HLS_pathway=' + 'x'.repeat(300), '/steering?_HLS_pathway=%00', '/catalog.json?x=1', '/player/../../etc/passwd',
];
const GARBAGE_HEADS = [
  'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', 'GET / HTTP/1.1\n\n', 'GET /\r\n\r\n', 'GET / HTTP/0.9\r\n\r\n',
  'GET / HTTP/1.2\r\nHost: x\r\n\r\n', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n', 'GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n', ' GET / HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET  / HTTP/1.1\r\nHost: x\r\n\r\n', 'GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n', 'get / HTTP/1.1\r\nHost: x\r\n\r\n', 'G\x00T / HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET http://evil.example/vod/demo-ts/master.m3u8 HTTP/1.1\r\nHost: x\r\n\r\n', 'GET evil.example:80 HTTP/1.1\r\nHost: x\r\n\r\n', 'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n',
  'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n', '\r\n\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /healthz HTTP/1.1\rHost: x\r\r',
  'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n', 'HTTP/1.1 200 OK\r\n\r\n',
  'GET HTTP/1.1\r\nHost: x\r\n\r\n', 'GET / HTTP/1.1\r\n: empty-name\r\n\r\n', 'GET / HTTP/1.1\r\nHost x\r\n\r\n', 'GET / HTTP/1.1\r\nHo st: x\r\n\r\n',
  'GET / HTTP/1.1\r\nHost : x\r\n\r\n', 'GET / HTTP/1.1\r\n\x00: x\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\n \r\n\r\n',
];

class Generator implements FuzzCaseSource {
  private readonly random: () => number;
  constructor(seed: number, private readonly known: readonly KnownObject[]) {
    if (known.length === 0) throw new TypeError('fuzz cases: at least one known object is needed');
    this.random = seededRandom(seed);
  }

  private int(low: number, high: number): number {
    return low + Math.floor(this.random() * (high - low + 1));
  }
  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }
  private chance(p: number): boolean {
    return this.random() < p;
  }
  private junkName(): string {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-_';
    return Array.from({ length: this.int(1, 24) }, () => this.pick([...alphabet])).join('');
  }
  private object(): KnownObject {
    return this.pick(this.known);
  }

  /** A target: a known object, a made-up one, a control or traversal path, or an odd one. */
  private path(): { path: string; known?: KnownObject } {
    const roll = this.random();
    if (roll < 0.3) {
      const known = this.object();
      return { path: known.path, known };
    }
    if (roll < 0.5) return { path: `/vod/${this.pick(['demo-ts', 'demo-fmp4', this.junkName()])}/${this.pick(['720p', '240p', this.junkName()])}/${this.junkName()}.${this.pick(['ts', 'm4s', 'm3u8', 'mp4', 'vtt'])}` };
    if (roll < 0.65) return { path: this.pick(CONTROL_PATHS) };
    if (roll < 0.8) return { path: this.pick(TRAVERSALS) };
    if (roll < 0.95) return { path: this.pick(ODD_PATHS) };
    return { path: '/vod/' + Array.from({ length: this.int(50, 3000) }, () => this.junkName()).join('/') };
  }

  /** A well-formed GET or HEAD head, with extra fields. */
  private head(method: string, path: string, fields: readonly string[] = [], close = false): string {
    return `${method} ${path} HTTP/1.1${CRLF}Host: fuzz.test${CRLF}${fields.map((f) => f + CRLF).join('')}${close ? `Connection: close${CRLF}` : ''}${CRLF}`;
  }

  private single(family: FuzzFamily, label: string, bytes: string | Buffer, request: FuzzRequest, ending: FuzzEnding = 'read'): FuzzCase {
    return { family, label, chunks: [typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes], chunkGapMs: 0, requests: [request], ending, sent: 1 };
  }

  next(): FuzzCase {
    const families: [FuzzFamily, number][] = [
      ['request-line', 10], ['headers', 14], ['path', 16], ['range', 12], ['conditional', 6], ['body', 8], ['smuggling', 6],
      ['slow', 4], ['half-close', 4], ['pipeline', 12], ['reset', 8],
    ];
    let roll = this.random() * families.reduce((sum, [, weight]) => sum + weight, 0);
    const family = families.find(([, weight]) => (roll -= weight) < 0)?.[0] ?? 'path';
    switch (family) {
      case 'request-line': return this.requestLine();
      case 'headers': return this.headers();
      case 'path': return this.pathCase();
      case 'range': return this.range();
      case 'conditional': return this.conditional();
      case 'body': return this.body();
      case 'smuggling': return this.smuggling();
      case 'slow': return this.slow();
      case 'half-close': return this.halfClose();
      case 'pipeline': return this.pipeline();
      case 'reset': return this.reset();
    }
  }

  private requestLine(): FuzzCase {
    const roll = this.random();
    if (roll < 0.4) return this.single('request-line', 'garbage head', this.pick(GARBAGE_HEADS), { method: 'GET' });
    if (roll < 0.55) {
      const method = this.chance(0.5) ? this.pick(METHODS) : this.junkName().toUpperCase() + this.pick(['', '@', '(', '\x01']);
      return this.single('request-line', `method ${JSON.stringify(method.slice(0, 20))}`, this.head(method, this.path().path, [], true), { method: method === 'HEAD' ? 'HEAD' : 'GET' });
    }
    if (roll < 0.7) {
      const length = this.pick([8 * 1024, 16 * 1024, 64 * 1024, 200 * 1024]);
      return this.single('request-line', `URI of ${length} bytes`, this.head('GET', '/vod/' + 'a'.repeat(length), [], true), { method: 'GET' });
    }
    if (roll < 0.85) {
      const bytes = Buffer.from(Array.from({ length: this.int(1, 2000) }, () => this.int(0, 255)));
      return this.single('request-line', `${bytes.length} random bytes`, bytes, { method: 'GET' });
    }
    const version = this.pick(['HTTP/1.0', 'HTTP/1.1', 'HTTP/1.10', 'HTTP/01.1', 'http/1.1', 'HTTP/1', 'HTTP/9.9', 'HTTPS/1.1', '']);
    return this.single('request-line', `version ${version}`, `GET ${this.object().path} ${version}\r\nHost: fuzz.test\r\nConnection: close\r\n\r\n`, { method: 'GET' });
  }

  private headers(): FuzzCase {
    const { path, known } = this.path();
    const roll = this.random();
    let fields: string[];
    let label: string;
    if (roll < 0.12) {
      const size = this.pick([4096, 15_000, 17_000, 64 * 1024, 128 * 1024]);
      fields = [`X-Huge: ${'h'.repeat(size)}`];
      label = `header value of ${size} bytes`;
    } else if (roll < 0.2) {
      const count = this.pick([100, 1000, 5000]);
      fields = Array.from({ length: count }, (_, i) => `X-Many-${i}: ${i}`);
      label = `${count} header fields`;
    } else if (roll < 0.32) {
      fields = [this.pick(['Host: other.test', 'Content-Length: 0', 'Content-Length: 5', 'Transfer-Encoding: chunked', 'Range: bytes=0-1', 'If-None-Match: "x"', 'Authorization: Bearer a'])];
      fields.push(fields[0]!.replace(/: .*/, `: ${this.junkName()}`));
      label = `duplicate ${fields[0]!.split(':')[0]}`;
    } else if (roll < 0.42) {
      fields = [`X-Folded: first`, `${this.pick([' ', '\t', '  \t'])}${this.pick(['continued', 'X-Injected: 1', 'Transfer-Encoding: chunked'])}`];
      label = 'obs-fold';
    } else if (roll < 0.52) {
      fields = [`X-Nul: a${this.pick(['\x00', '\x01', '\x7f', '\x0b', '\x0c'])}b`];
      label = 'control character in a value';
    } else if (roll < 0.62) {
      const injected = this.pick(['\r\nX-Injected: 1', '\rX-Injected: 1', '\nX-Injected: 1', '\r\n\r\nGET /smuggled HTTP/1.1']);
      fields = [`X-Crlf: a${injected}`];
      // A blank line ends the head: what follows is a second request, and may be answered as one.
      if (injected.includes('\r\n\r\n')) return { ...this.single('headers', 'CR/LF injection ending the head', this.head('GET', path, fields, true), { method: 'GET' }), requests: [{ method: 'GET' }, { method: 'GET' }], sent: 2 };
      label = 'CR/LF injection in a value';
    } else if (roll < 0.74) {
      fields = [this.pick([
        'X-Streamedge-Sibling: 1', 'X-Streamedge-Sibling: edge-2', 'X-Origin-Id: spoofed', 'X-Forwarded-For: 127.0.0.1, ::1, junk, 999.1.1.1',
        'X-Forwarded-For: ' + '1.2.3.4, '.repeat(2000), 'X-Forwarded-Proto: gopher', 'Forwarded: for="[::1]";proto=javascript', 'Via: 1.1 loop, 1.1 loop',
        'Cache-Control: no-cache', 'Cache-Control: max-age=-1', 'Pragma: no-cache', 'Max-Forwards: 0', 'Authorization: Bearer ' + 'a'.repeat(100),
        'Cookie: ' + 'c=1; '.repeat(500), 'Accept-Encoding: gzip;q=2, br, *;q=-1', 'X-HTTP-Method-Override: DELETE',
      ])];
      label = `header ${fields[0]!.slice(0, 30)}`;
    } else if (roll < 0.84) {
      fields = [this.pick(['Expect: 100-continue', 'Expect: 999-nope', 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13', 'Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA', 'Connection: keep-alive, x-drop, Content-Length', 'Connection: close, close', 'TE: trailers, deflate', 'Keep-Alive: timeout=99999'])];
      label = `connection field ${fields[0]!.slice(0, 30)}`;
    } else if (roll < 0.92) {
      const name = this.pick(['X Space', 'X:Colon', 'X\x00Nul', 'X(Paren)', 'X\xffHigh', '', 'X-Ünicode']);
      fields = [`${name}: v`];
      label = `bad field name ${JSON.stringify(name)}`;
    } else {
      // No Host, or an odd one.
      const bytes = this.chance(0.5) ? `GET ${path} HTTP/1.1\r\nConnection: close\r\n\r\n` : `GET ${path} HTTP/1.1\r\nHost: ${this.pick(['', ' ', 'a b', 'x:99999', '[::1', 'evil.test/path', '\x00'])}\r\nConnection: close\r\n\r\n`;
      return this.single('headers', 'missing or odd Host', bytes, { method: 'GET', check: known ? checkKnown(known, 'GET') : undefined });
    }
    return this.single('headers', label, this.head('GET', path, fields, true), { method: 'GET', check: known ? checkKnown(known, 'GET', { range: true, conditional: true }) : undefined });
  }

  private pathCase(): FuzzCase {
    const { path, known } = this.path();
    const method = this.pick(['GET', 'GET', 'GET', 'HEAD', 'OPTIONS']);
    return this.single('path', `${method} ${path.slice(0, 60)}`, this.head(method, path, [], true), { method: method === 'HEAD' ? 'HEAD' : 'GET', check: known && method !== 'OPTIONS' ? checkKnown(known, method) : undefined });
  }

  private rangeValue(size: number): string {
    const n = () => String(this.int(0, size + 10));
    return this.pick([
      `bytes=0-0`, `bytes=${n()}-${n()}`, `bytes=${n()}-`, `bytes=-${n()}`, `bytes=-0`, `bytes=${size}-`, `bytes=${size - 1}-`, `bytes=100-50`,
      `bytes=0-99999999999999999999`, `bytes=18446744073709551616-`, `bytes=9007199254740993-9007199254740995`, `bytes=-99999999999999999999`,
      `bytes=0-1,5-10,3-4`, Array.from({ length: this.int(2, 300) }, () => `${n()}-${n()}`).join(',').replace(/^/, 'bytes='), `bytes=0-1,0-1`,
      `bytes= 0 - 1 `, `items=0-1`, `bytes=`, `bytes=-`, `bytes=-5-10`, `bytes=0x10-0x20`, `bytes=1e3-2e3`, `bytes=+1-2`, `bytes=0-1;x`, 'bytes=,,,,', `BYTES=0-1`,
      `bytes=${size + 100}-${size + 200}`, `bytes=0-${'9'.repeat(400)}`, 'bytes=' + '0-1,'.repeat(5000) + '0-1',
    ]);
  }

  private range(): FuzzCase {
    const known = this.object();
    const fields = [`Range: ${this.rangeValue(known.body.length)}`];
    if (this.chance(0.25)) fields.push(`If-Range: ${this.pick([known.etag, `W/${known.etag}`, '"other"', 'Thu, 01 Jan 1970 00:00:00 GMT', 'garbage', 'Sun, 06 Nov 2094 08:49:37 GMT'])}`);
    const method = this.pick(['GET', 'GET', 'HEAD']);
    return this.single('range', `${method} ${fields.join('; ').slice(0, 70)}`, this.head(method, known.path, fields, true), { method, check: checkKnown(known, method, { range: true }) });
  }

  private conditional(): FuzzCase {
    const known = this.object();
    const value = this.pick([
      `If-None-Match: ${known.etag}`, `If-None-Match: W/${known.etag}`, 'If-None-Match: *', 'If-None-Match: unquoted', `If-None-Match: ${'"x", '.repeat(3000)}"y"`,
      `If-None-Match: "a", ${known.etag}`, 'If-None-Match: "', 'If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT', 'If-Modified-Since: Sun, 06 Nov 2094 08:49:37 GMT',
      'If-Modified-Since: yesterday', 'If-Modified-Since: Sunday, 06-Nov-94 08:49:37 GMT', 'If-Modified-Since: Sun Nov  6 08:49:37 1994', 'If-Match: "nope"',
      'If-Match: *', 'If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT', `If-None-Match: ${known.etag}\r\nIf-Modified-Since: garbage`,
    ]);
    const method = this.pick(['GET', 'HEAD']);
    return this.single('conditional', value.slice(0, 60), this.head(method, known.path, [value], true), { method, check: checkKnown(known, method, { conditional: true }) });
  }

  private body(): FuzzCase {
    const method = this.pick(['POST', 'PUT', 'PATCH', 'DELETE', 'GET']);
    const { path } = this.path();
    const roll = this.random();
    let framing: string;
    let payload: string;
    if (roll < 0.35) {
      framing = `Content-Length: ${this.pick(['-1', 'abc', '1, 2', '+5', '0x10', '99999999999999999999', ' 5', '5 ', '05', '1e3', '', '4\r\nContent-Length: 5'])}`;
      payload = 'hello';
    } else if (roll < 0.5) {
      // Less than promised: the server waits for the rest, then gives up (request timeout).
      framing = `Content-Length: ${this.int(10, 100_000)}`;
      payload = 'short';
    } else if (roll < 0.6) {
      framing = `Content-Length: ${this.pick([100_000, 400_000])}`;
      payload = 'x'.repeat(Number(/\d+/.exec(framing)![0]));
    } else {
      framing = `Transfer-Encoding: ${this.pick(['chunked', 'chunked, identity', 'identity', 'xchunked', 'chunked ', ' chunked', 'gzip, chunked', 'chunked\r\nTransfer-Encoding: chunked', 'CHUNKED'])}`;
      payload = this.pick([
        '5\r\nhello\r\n0\r\n\r\n', 'zz\r\nhello\r\n0\r\n\r\n', 'ffffffffffffffffff\r\nx\r\n0\r\n\r\n', '5;ext=1;x="y"\r\nhello\r\n0\r\n\r\n', '5\r\nhello0\r\n\r\n',
        '5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n', '5\nhello\n0\n\n', '-5\r\nhello\r\n0\r\n\r\n', '5\r\nhello\r\n', '0\r\n\r\n', '1\r\n\x00\r\n0\r\n\r\n',
      ]);
    }
    const bytes = `${method} ${path} HTTP/1.1\r\nHost: fuzz.test\r\n${framing}\r\nConnection: close\r\n\r\n${payload}`;
    return this.single('body', `${method} ${framing.replace(/\r\n/g, ' ').slice(0, 50)}`, bytes, { method });
  }

  private smuggling(): FuzzCase {
    const smuggled = `GET ${this.pick(['/metrics', '/admin/purge', this.object().path, '/smuggled'])} HTTP/1.1\r\nHost: fuzz.test\r\n\r\n`;
    const te = this.pick(['Transfer-Encoding: chunked', 'Transfer-Encoding : chunked', 'Transfer-Encoding:\tchunked', 'Transfer-Encoding: \x0bchunked', 'Transfer-Encoding: xchunked', 'Transfer-Encoding: chunked, identity', 'Transfer-encoding: chunked', 'Transfer-Encoding:\r\n chunked']);
    const variant = this.pick(['CL.TE', 'TE.CL', 'CL.CL', 'TE.TE']);
    let head: string;
    let body: string;
    switch (variant) {
      case 'CL.TE':
        body = `0\r\n\r\n${smuggled}`;
        head = `Content-Length: ${body.length}\r\n${te}`;
        break;
      case 'TE.CL':
        body = `${(smuggled.length).toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`;
        head = `${te}\r\nContent-Length: 4`;
        break;
      case 'CL.CL':
        body = smuggled;
        head = `Content-Length: 0\r\nContent-Length: ${smuggled.length}`;
        break;
      default:
        body = `0\r\n\r\n${smuggled}`;
        head = `Transfer-Encoding: chunked\r\n${te}`;
    }
    const method = this.pick(['POST', 'GET', 'PUT']);
    // One request was meant; a second answer means a smuggled request got through.
    return this.single('smuggling', `${variant} ${te.replace(/\s+/g, ' ')}`, `${method} ${this.path().path} HTTP/1.1\r\nHost: fuzz.test\r\n${head}\r\n\r\n${body}`, { method });
  }

  private slow(): FuzzCase {
    const known = this.object();
    const whole = Buffer.from(this.head('GET', known.path, this.chance(0.3) ? [`Range: bytes=0-${this.int(0, 100)}`] : [], true), 'latin1');
    const pieces = this.int(2, 30);
    const chunks: Buffer[] = [];
    const step = Math.ceil(whole.length / pieces);
    for (let i = 0; i < whole.length; i += step) chunks.push(whole.subarray(i, i + step));
    // Sometimes the head never ends: the header timeout must close it.
    if (this.chance(0.3)) chunks.pop();
    return { family: 'slow', label: `${chunks.length} pieces${chunks.length * step < whole.length ? ', never finished' : ''}`, chunks, chunkGapMs: this.int(1, 40), requests: [{ method: 'GET', check: checkKnown(known, 'GET', { range: true }) }], ending: 'read', sent: 1 };
  }

  private halfClose(): FuzzCase {
    const known = this.object();
    const whole = this.head(this.pick(['GET', 'HEAD']), known.path, [], this.chance(0.5));
    const method = whole.startsWith('HEAD') ? 'HEAD' : 'GET';
    const bytes = this.chance(0.3) ? whole.slice(0, this.int(1, whole.length - 1)) : whole;
    return this.single('half-close', `FIN after ${bytes.length === whole.length ? 'the head' : `${bytes.length} bytes`}`, bytes, { method, check: checkKnown(known, method) }, 'half-close');
  }

  private pipeline(): FuzzCase {
    const count = this.int(2, 24);
    const requests: FuzzRequest[] = [];
    let bytes = '';
    let label = `${count} pipelined`;
    for (let i = 0; i < count; i++) {
      const last = i === count - 1;
      const roll = this.random();
      if (roll < 0.5) {
        const known = this.object();
        const method = this.pick(['GET', 'GET', 'HEAD']);
        bytes += this.head(method, known.path, [], last);
        requests.push({ method, check: checkKnown(known, method, { byteExact: true }) });
      } else if (roll < 0.65) {
        const known = this.object();
        const start = this.int(0, known.body.length - 1);
        bytes += this.head('GET', known.path, [`Range: bytes=${start}-${this.int(start, known.body.length + 50)}`], last);
        requests.push({ method: 'GET', check: checkKnown(known, 'GET', { range: true }) });
      } else if (roll < 0.8) {
        bytes += this.head('GET', '/healthz', [], last);
        requests.push({ method: 'GET', check: (r) => (r.status === 200 ? undefined : `/healthz answered ${r.status}`) });
      } else if (roll < 0.95) {
        const { path } = this.path();
        bytes += this.head('GET', path, [], last);
        requests.push({ method: 'GET' });
      } else {
        // A malformed one mid-pipeline: it and nothing after it may be answered with success.
        bytes += this.pick(GARBAGE_HEADS);
        requests.push({ method: 'GET' });
        label += ', garbage inside';
        break;
      }
    }
    const chunks: Buffer[] = [];
    const all = Buffer.from(bytes, 'latin1');
    if (this.chance(0.3)) {
      // Split at arbitrary points, not request boundaries.
      let at = 0;
      while (at < all.length) {
        const size = this.int(1, 400);
        chunks.push(all.subarray(at, at + size));
        at += size;
      }
    } else {
      chunks.push(all);
    }
    return { family: 'pipeline', label, chunks, chunkGapMs: chunks.length > 1 ? this.int(0, 3) : 0, requests, ending: this.chance(0.15) ? 'half-close' : 'read', sent: requests.length };
  }

  private reset(): FuzzCase {
    const known = this.object();
    const roll = this.random();
    if (roll < 0.4) return this.single('reset', 'reset after the head', this.head('GET', known.path), { method: 'GET' }, 'reset');
    if (roll < 0.7) return this.single('reset', 'reset on the first response byte', this.head('GET', known.path, this.chance(0.5) ? ['Range: bytes=0-'] : []), { method: 'GET' }, 'reset-on-first-byte');
    if (roll < 0.85) return this.single('reset', 'reset mid-body upload', `POST ${known.path} HTTP/1.1\r\nHost: fuzz.test\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(this.int(0, 5000))}`, { method: 'POST' }, 'reset');
    return this.single('reset', 'reset mid-head', this.head('GET', known.path).slice(0, this.int(1, 20)), { method: 'GET' }, 'reset');
  }
}

/** A seeded, endless source of fuzz cases over these known objects. */
export function fuzzCases(seed: number, known: readonly KnownObject[]): FuzzCaseSource {
  return new Generator(seed, known);
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+)$/;

/**
 * What a correct answer to a request for a known object looks like: a 200 carries exactly its bytes
 * (a HEAD its length), a single-range 206 exactly the slice it names, and only statuses a cache
 * may give for the request's kind.
 */
export function checkKnown(known: KnownObject, method: string, kind: { range?: boolean; conditional?: boolean; byteExact?: boolean } = {}) {
  return (response: ParsedResponse): string | undefined => {
    const allowed = [200, 400, 431, 503, 405, 501, 403, 404, 408, 413, 414, 417];
    if (kind.range) allowed.push(206, 416);
    if (kind.conditional) allowed.push(304, 412);
    if (!allowed.includes(response.status)) return `${method} ${known.path} answered ${response.status}`;
    // A pipelined request still queued when the request timeout strikes may get 408.
    if (kind.byteExact && ![200, 206, 304, 408].includes(response.status)) return `${method} ${known.path} answered ${response.status}`;
    if (response.status === 200) {
      if (method === 'HEAD') {
        const length = responseField(response, 'content-length');
        return length === undefined || Number(length) === known.body.length ? undefined : `HEAD ${known.path}: Content-Length ${length}, object is ${known.body.length}`;
      }
      if (method === 'GET' && !response.body.equals(known.body)) return `GET ${known.path}: 200 body of ${response.body.length} bytes differs from the origin's ${known.body.length}`;
    }
    if (response.status === 206 && method === 'GET') {
      const contentRange = responseField(response, 'content-range');
      if (contentRange === undefined) return (responseField(response, 'content-type') ?? '').startsWith('multipart/byteranges') ? undefined : `206 without Content-Range`;
      const match = CONTENT_RANGE.exec(contentRange);
      if (!match) return `bad Content-Range ${contentRange}`;
      const [start, end, total] = [Number(match[1]), Number(match[2]), Number(match[3])];
      if (total !== known.body.length || end < start || end >= total) return `Content-Range ${contentRange} for an object of ${known.body.length}`;
      if (!response.body.equals(known.body.subarray(start, end + 1))) return `206 ${contentRange} body differs from the origin's bytes`;
    }
    if (response.status === 304 && responseField(response, 'etag') !== undefined && responseField(response, 'etag') !== known.etag) return `304 with ETag ${responseField(response, 'etag')}`;
    return undefined;
  };
}
