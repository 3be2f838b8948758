// Runs fuzz cases against a live server on raw sockets, many at once, and judges every exchange:
// the bytes back must be valid HTTP/1.1 responses, in order, each right for its request, or the
// connection closed cleanly between them; no answer may carry an internal header, a header a
// request injected, the origin's metrics or a file from outside the catalog.
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FuzzCase, FuzzCaseSource, FuzzFamily } from './http-fuzz-cases.js';
import { readResponses, type ParsedResponse } from './http-response-reader.js';

export interface FuzzRunOptions {
  /** The server's http:// base URL. */
  readonly url: string;
  readonly cases: FuzzCaseSource;
  /** Stop starting cases once this many requests were sent. */
  readonly requests: number;
  /** Connections at once. */
  readonly concurrency: number;
  /** An exchange neither answered in full nor closed by then is a finding (above the server's request timeout). */
  readonly caseTimeoutMs: number;
}

export interface FuzzFinding {
  readonly family: FuzzFamily;
  readonly label: string;
  readonly problem: string;
  /** The first bytes the client sent and the server sent back, for the report. */
  readonly sent: string;
  readonly received: string;
}

export interface FuzzReport {
  readonly cases: number;
  readonly requests: number;
  readonly responses: number;
  /** Connections the server closed with every response it sent complete (none, or some). */
  readonly cleanCloses: number;
  readonly byFamily: Readonly<Record<string, number>>;
  readonly statuses: Readonly<Record<string, number>>;
  readonly findings: readonly FuzzFinding[];
  readonly elapsedMs: number;
}

/** Response fields only streamedge's own hops may see. */
export const INTERNAL_HEADERS = ['x-origin-id', 'x-streamedge-sibling'];

interface Exchange {
  readonly responses: readonly ParsedResponse[];
  readonly received: Buffer;
  readonly problem?: string;
  readonly closedByServer: boolean;
}

function exchange(url: URL, fuzzCase: FuzzCase, timeoutMs: number): Promise<Exchange> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const methods = fuzzCase.requests.map((request) => request.method);
    let settled = false;
    const socket: Socket = connect({ host: url.hostname, port: Number(url.port) });
    const finish = (result: Omit<Exchange, 'received'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!socket.destroyed) socket.destroy();
      resolve({ ...result, received: Buffer.concat(chunks) });
    };
    const timer = setTimeout(() => {
      const read = readResponses(Buffer.concat(chunks), methods, false);
      finish({ responses: read.responses, problem: `neither answered nor closed within ${timeoutMs} ms (${read.responses.length}/${methods.length} responses)`, closedByServer: false });
    }, timeoutMs);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (fuzzCase.ending === 'reset-on-first-byte') {
        socket.resetAndDestroy();
        finish({ responses: [], closedByServer: false });
        return;
      }
      const read = readResponses(Buffer.concat(chunks), methods, false);
      if (read.kind === 'invalid') finish({ responses: read.responses, problem: read.reason, closedByServer: false });
      else if (read.kind === 'complete' && read.responses.length === methods.length) finish({ responses: read.responses, closedByServer: false });
    });
    socket.once('close', () => {
      const read = readResponses(Buffer.concat(chunks), methods, true);
      if (read.kind === 'invalid') finish({ responses: read.responses, problem: read.reason, closedByServer: true });
      else if (read.kind === 'partial') finish({ responses: read.responses, problem: `closed in the middle of response ${read.responses.length + 1}`, closedByServer: true });
      else finish({ responses: read.responses, closedByServer: true });
    });
    socket.once('connect', () => {
      void (async () => {
        for (const [index, chunk] of fuzzCase.chunks.entries()) {
          if (socket.destroyed) return;
          if (index > 0 && fuzzCase.chunkGapMs > 0) await sleep(fuzzCase.chunkGapMs);
          if (socket.destroyed) return;
          socket.write(chunk);
        }
        if (fuzzCase.ending === 'half-close') socket.end();
        else if (fuzzCase.ending === 'reset') {
          socket.resetAndDestroy();
          finish({ responses: [], closedByServer: false });
        }
      })();
    });
  });
}

const ORIGIN_METRICS = 'streamedge_origin_';
const OUTSIDE_FILE = /root:x:0:0:|\bPATH=\/|\bHOME=\//;

/** Problems with one response that no request can excuse. */
function responseProblems(response: ParsedResponse): string[] {
  const problems: string[] = [];
  for (const [name] of response.fields) {
    if (INTERNAL_HEADERS.includes(name)) problems.push(`internal header ${name} leaked`);
    if (name === 'x-injected') problems.push('a header injected through the request came back');
  }
  const text = response.body.toString('latin1');
  if (text.includes(ORIGIN_METRICS)) problems.push("the origin's /metrics reached a viewer");
  if (OUTSIDE_FILE.test(text)) problems.push('a file from outside the catalog was served');
  return problems;
}

/** Sends cases until `requests` were sent, `concurrency` connections at a time; never throws on a finding. */
export async function runFuzz(options: FuzzRunOptions): Promise<FuzzReport> {
  const url = new URL(options.url);
  const started = performance.now();
  const findings: FuzzFinding[] = [];
  const byFamily: Record<string, number> = {};
  const statuses: Record<string, number> = {};
  let cases = 0;
  let requests = 0;
  let responses = 0;
  let cleanCloses = 0;
  const worker = async (): Promise<void> => {
    while (requests < options.requests) {
      const fuzzCase = options.cases.next();
      cases++;
      requests += fuzzCase.sent;
      byFamily[fuzzCase.family] = (byFamily[fuzzCase.family] ?? 0) + fuzzCase.sent;
      const result = await exchange(url, fuzzCase, options.caseTimeoutMs);
      const problems = result.problem ? [result.problem] : [];
      for (const [index, response] of result.responses.entries()) {
        responses++;
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        problems.push(...responseProblems(response));
        const wrong = fuzzCase.requests[index]?.check?.(response);
        if (wrong) problems.push(`response ${index + 1}: ${wrong}`);
      }
      if (!result.problem && result.closedByServer) cleanCloses++;
      for (const problem of problems) {
        findings.push({ family: fuzzCase.family, label: fuzzCase.label, problem, sent: Buffer.concat(fuzzCase.chunks).subarray(0, 600).toString('latin1'), received: result.received.subarray(0, 600).toString('latin1') });
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return { cases, requests, responses, cleanCloses, byFamily, statuses, findings, elapsedMs: performance.now() - started };
}

/** Findings grouped by problem, with a count and one example each: a short summary for a failure message. */
export function summarizeFindings(findings: readonly FuzzFinding[], limit = 20): string {
  const groups = new Map<string, { count: number; example: FuzzFinding }>();
  for (const finding of findings) {
    const key = `${finding.family}: ${finding.problem.replace(/\d+/g, 'N')}`;
    const group = groups.get(key);
    if (group) group.count++;
    else groups.set(key, { count: 1, example: finding });
  }
  return [...groups]
    .slice(0, limit)
    .map(([key, { count, example }]) => `${count} × ${key}\n    e.g. [${example.label}] ${example.problem}\n    sent ${JSON.stringify(example.sent.slice(0, 300))}\n    got ${JSON.stringify(example.received.slice(0, 300))}`)
    .join('\n');
}
