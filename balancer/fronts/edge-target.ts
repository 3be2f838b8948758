// Where requests for one edge go, worked out once per snapshot's EdgeNode rather than per request.
import type { EdgeNode } from '../discovery/edge-node.js';

export interface EdgeTarget {
  /** scheme://host[:port] */
  readonly origin: string;
  /** The edge URL's path, without a trailing slash, put in front of every proxied path. */
  readonly prefix: string;
  /** The Host field for requests to the edge. */
  readonly host: string;
  readonly hostname: string;
  readonly port: number;
  readonly secure: boolean;
}

const targets = new WeakMap<EdgeNode, EdgeTarget>();

export function edgeTarget(edge: EdgeNode): EdgeTarget {
  let target = targets.get(edge);
  if (!target) {
    const url = new URL(edge.url);
    const secure = url.protocol === 'https:';
    target = {
      origin: url.origin,
      prefix: url.pathname.replace(/\/+$/, ''),
      host: url.host,
      // An IPv6 literal comes bracketed in the URL, bare to connect().
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port ? Number(url.port) : secure ? 443 : 80,
      secure,
    };
    targets.set(edge, target);
  }
  return target;
}
