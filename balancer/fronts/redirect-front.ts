import type { Front, FrontOutcome, FrontRequest } from './front.js';
import { sendError } from '../http-responses.js';

/**
 * 302 to the best edge. The Location is built only from a snapshot edge's URL and a validated
 * media path, so no request can make the balancer redirect anywhere else.
 */
export function createRedirectFront(): Front {
  return {
    name: 'redirect',
    async handle({ req, res, target, router }: FrontRequest): Promise<FrontOutcome> {
      const route = router.route(req, target.assetKey);
      const edge = route.candidates[0];
      if (!edge) {
        sendError(res, 503, 'no healthy edge available', { 'retry-after': '2' });
        return 'no-edge';
      }
      router.commit(route, edge);
      res.writeHead(302, {
        location: `${edge.url}${target.path}${target.query ? `?${target.query}` : ''}`,
        'cache-control': 'no-store',
        'x-streamedge-edge': edge.id,
        'content-length': 0,
      });
      res.end();
      return 'redirected';
    },
  };
}
