import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../infra/runtime/logger.js';
import type { EdgeRouter } from '../selection/edge-router.js';
import type { MediaTarget } from '../request-target.js';

export type FrontName = 'redirect' | 'proxy' | 'steering';

/** How a request ended; the same names label metrics and logs. */
export type FrontOutcome =
  | 'redirected'
  | 'proxied'
  | 'steered'
  | 'steering-manifest'
  | 'no-edge'
  | 'upstream-error'
  | 'upstream-4xx'
  | 'bad-request'
  | 'token-refused'
  | 'client-closed';

/** The same inputs for every front: the validated target and the router that orders edges. */
export interface FrontRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly target: MediaTarget;
  readonly router: EdgeRouter;
  readonly log: Logger;
  /** A checked signed URL's token parameters, to carry into the URLs handed out ('' = none). */
  readonly tokenQuery: string;
}

export interface Front {
  readonly name: FrontName;
  handle(request: FrontRequest): Promise<FrontOutcome>;
  close?(): Promise<void>;
}
