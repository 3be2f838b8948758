// Replies written straight to a viewer's socket (a request node:http cannot parse, a CONNECT), kept
// in order with the responses node:http still owes on that connection. node:http raises
// 'clientError' the moment its parser fails, even when requests pipelined before the bad bytes are
// still being answered, so a reply written at once lands ahead of their responses or inside a body
// being streamed; and it may come after a response that already said `Connection: close`.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { lingeringClose } from './viewer-connections.js';

interface OwedResponse {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  settled: boolean;
}

interface ConnectionDebt {
  /** Requests node:http handed over whose responses are not finished. */
  owed: number;
  /** The last request handed over: bad bytes inside its body make it the broken one. */
  last?: OwedResponse;
  /** A finished response said the connection closes: nothing may follow it. */
  closing: boolean;
  /** The raw reply waiting for the owed responses. */
  waiting?: () => void;
}

export interface RawReplies {
  /**
   * Writes `reply` and closes once every response owed on the socket is finished; after a response
   * that closed the connection, only closes. When the bad bytes were inside a request's body, that
   * request gets the reply instead of its own response (or, if its response had begun, a cut).
   * Called twice on one socket, only the first counts.
   */
  send(socket: Socket, reply: string): void;
}

function saysClose(res: ServerResponse): boolean {
  return !res.shouldKeepAlive || /(?:^|,)\s*close\s*(?:,|$)/i.test(String(res.getHeader('connection') ?? ''));
}

/** The request whose body the parser failed in, while its response is still owed. */
function brokenRequest(debt: ConnectionDebt): OwedResponse | undefined {
  return debt.last && !debt.last.settled && !debt.last.req.complete ? debt.last : undefined;
}

/** Tracks the responses owed on each of the server's connections, for `send`. */
export function trackRawReplies(server: Server): RawReplies {
  const debts = new WeakMap<Socket, ConnectionDebt>();
  const debtOf = (socket: Socket): ConnectionDebt => {
    let debt = debts.get(socket);
    if (!debt) debts.set(socket, (debt = { owed: 0, closing: false }));
    return debt;
  };
  const owedBeforeReply = (debt: ConnectionDebt): number => debt.owed - (brokenRequest(debt) ? 1 : 0);
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const debt = debtOf(req.socket);
    const owed: OwedResponse = { req, res, settled: false };
    debt.owed++;
    debt.last = owed;
    const settle = (): void => {
      if (owed.settled) return;
      owed.settled = true;
      if (res.writableFinished && saysClose(res)) debt.closing = true;
      debt.owed--;
      if (debt.waiting && owedBeforeReply(debt) === 0) debt.waiting();
    };
    res.once('finish', settle);
    res.once('close', settle);
  });
  const sent = new WeakSet<Socket>();
  return {
    send(socket, reply) {
      if (sent.has(socket)) return;
      sent.add(socket);
      const debt = debtOf(socket);
      const write = (): void => {
        debt.waiting = undefined;
        if (debt.closing || !socket.writable || brokenRequest(debt)?.res.headersSent) socket.destroy();
        else lingeringClose(socket, reply);
      };
      if (owedBeforeReply(debt) === 0) write();
      else debt.waiting = write;
    },
  };
}
