/** What every caching peer of the edge benchmark is given: the same origin, cache size and parallelism as the edge. */
export interface CachePeerOptions {
  /** The origin the peer caches in front of, e.g. http://127.0.0.1:8091 */
  readonly originUrl: string;
  readonly cacheBytes: number;
  /** Worker processes or threads, kept equal to the edge's workers. */
  readonly workers: number;
}
