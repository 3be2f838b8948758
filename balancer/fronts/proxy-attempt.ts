// One try at one edge: an undici dispatch handler that streams the edge's response into the
// viewer's ServerResponse with backpressure, and says how the try ended. The retry loop that
// decides what to do next is proxy-front.ts's.
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import { responseHeadersForViewer } from './proxy-headers.js';

/** How one try ended: only `before-headers` may go on to the next edge. */
export type AttemptEnding =
  | { readonly kind: 'done' }
  | { readonly kind: 'client-closed' }
  | { readonly kind: 'before-headers'; readonly error: Error }
  | { readonly kind: 'cut-short'; readonly error: Error };

class ViewerClosed extends Error {
  constructor() {
    super('viewer closed the connection');
    this.name = 'ViewerClosed';
  }
}

export class ProxyAttempt implements Dispatcher.DispatchHandler {
  readonly ended: Promise<AttemptEnding>;
  private settle!: (ending: AttemptEnding) => void;
  private controller: Dispatcher.DispatchController | undefined;
  private headersWritten = false;
  private viewerClosed = false;
  private readonly onViewerClose = (): void => {
    if (this.res.writableFinished) return;
    this.viewerClosed = true;
    // Before the request reaches a socket there is no controller yet: onRequestStart aborts then.
    this.controller?.abort(new ViewerClosed());
  };
  private readonly onViewerDrain = (): void => this.controller?.resume();
  // A pipelined request's response waits for the ones before it without a socket of its own, and
  // node:http never emits its 'close' when the viewer goes: the connection's 'close' says so.
  private readonly socket: Socket | null;

  private abortedWith: Error | undefined;
  private finished = false;

  /** `onEdgeHeaders` sees the edge's final status and headers before they go to the viewer. */
  constructor(
    private readonly res: ServerResponse,
    private readonly onEdgeHeaders?: (statusCode: number, headers: () => Record<string, string | string[] | undefined>) => void,
  ) {
    this.ended = new Promise((resolve) => (this.settle = resolve));
    this.socket = res.req.socket;
    res.on('close', this.onViewerClose);
    res.on('drain', this.onViewerDrain);
    if (this.socket) {
      // One listener per pipelined request in flight on the connection, each removed when it ends.
      this.socket.setMaxListeners(this.socket.getMaxListeners() + 1);
      this.socket.on('close', this.onViewerClose);
    }
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortedWith) controller.abort(this.abortedWith);
    else if (this.viewerClosed || this.res.destroyed || this.socket?.destroyed) this.onViewerClose();
  }

  /** Gives up on the edge (its wait ended): the try ends `before-headers` with this error. */
  abort(error: Error): void {
    this.abortedWith = error;
    this.controller?.abort(error);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    // 1xx interim responses are the connection's business, not the viewer's.
    if (statusCode < 200) return;
    this.onEdgeHeaders?.(statusCode, () => headers);
    try {
      this.res.writeHead(statusCode, responseHeadersForViewer(headers));
    } catch (error) {
      // node:http refused a header value: the edge's answer cannot be relayed as it is.
      controller.abort(error as Error);
      return;
    }
    this.headersWritten = true;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    // A viewer reading slower than the edge sends holds the edge's socket until it catches up
    // (the viewer connection guard's write timeout bounds how long).
    if (!this.res.write(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    this.res.end();
    this.finish({ kind: 'done' });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.viewerClosed) this.finish({ kind: 'client-closed' });
    else if (this.headersWritten) this.finish({ kind: 'cut-short', error });
    else this.finish({ kind: 'before-headers', error });
  }

  private finish(ending: AttemptEnding): void {
    if (this.finished) return;
    this.finished = true;
    this.res.off('close', this.onViewerClose);
    this.res.off('drain', this.onViewerDrain);
    if (this.socket) {
      this.socket.off('close', this.onViewerClose);
      this.socket.setMaxListeners(this.socket.getMaxListeners() - 1);
    }
    this.settle(ending);
  }
}
