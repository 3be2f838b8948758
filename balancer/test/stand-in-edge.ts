import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renderMasterPlaylist } from '../../origin/master-playlist.js';

// A small in-process HTTP server that answers like an edge (same paths, X-Served-By), for
// balancer tests that do not need the real edge daemon.

export interface StandInEdge {
  readonly id: string;
  readonly url: string;
  readonly port: number;
  /** Request headers seen, most recent last. */
  readonly seen: { path: string; headers: IncomingHttpHeaders }[];
  /** Stops listening and cuts every open connection, like a killed process. */
  kill(): Promise<void>;
  /** Listens again on the same port. */
  revive(): Promise<void>;
}

export const STAND_IN_MASTER = renderMasterPlaylist([
  { uri: '240p/index.m3u8', bandwidth: 400_000, averageBandwidth: 350_000, width: 426, height: 240, frameRate: 30, codecs: 'avc1.64001e,mp4a.40.2' },
  { uri: '720p/index.m3u8', bandwidth: 2_800_000, averageBandwidth: 2_500_000, width: 1280, height: 720, frameRate: 30, codecs: 'avc1.64001f,mp4a.40.2' },
]);

export const STAND_IN_CATALOG = { assets: [{ id: 'demo-ts', title: 'Demo (TS)', kind: 'vod', format: 'ts', path: '/vod/demo-ts/master.m3u8' }] };

const SEGMENT_PATH = /^\/(vod|live)\/demo-ts\/\d+p\/seg-\d+\.ts$/;
const SEGMENT_BYTES = 4096;

/**
 * The edge metrics the dashboard reads, counted from the requests seen: segments as hits, master
 * playlists as misses whose origin answered within 10 ms, everything else as bypass.
 */
export function standInMetrics(seen: StandInEdge['seen']): string {
  const segments = seen.filter((request) => SEGMENT_PATH.test(request.path)).length;
  const masters = seen.filter((request) => request.path === '/vod/demo-ts/master.m3u8').length;
  const bypass = seen.length - segments - masters;
  return [
    '# TYPE streamedge_edge_responses_total counter',
    `streamedge_edge_responses_total{cache_status="hit"} ${segments}`,
    `streamedge_edge_responses_total{cache_status="miss"} ${masters}`,
    `streamedge_edge_responses_total{cache_status="bypass"} ${bypass}`,
    '# TYPE streamedge_edge_response_bytes_total counter',
    `streamedge_edge_response_bytes_total{cache_status="hit"} ${segments * SEGMENT_BYTES}`,
    `streamedge_edge_response_bytes_total{cache_status="miss"} ${masters * Buffer.byteLength(STAND_IN_MASTER)}`,
    '# TYPE streamedge_edge_upstream_tier_fetches_total counter',
    `streamedge_edge_upstream_tier_fetches_total{tier="origin",result="answered"} ${masters}`,
    '# TYPE streamedge_edge_upstream_tier_bytes_total counter',
    `streamedge_edge_upstream_tier_bytes_total{tier="origin"} ${masters * Buffer.byteLength(STAND_IN_MASTER)}`,
    '# TYPE streamedge_edge_upstream_tier_response_seconds histogram',
    `streamedge_edge_upstream_tier_response_seconds_bucket{le="0.005",tier="origin"} 0`,
    `streamedge_edge_upstream_tier_response_seconds_bucket{le="0.01",tier="origin"} ${masters}`,
    `streamedge_edge_upstream_tier_response_seconds_bucket{le="+Inf",tier="origin"} ${masters}`,
    `streamedge_edge_upstream_tier_response_seconds_count{tier="origin"} ${masters}`,
    '',
  ].join('\n');
}

function handler(id: string, seen: StandInEdge['seen']): Parameters<typeof createServer>[1] {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    seen.push({ path, headers: req.headers });
    res.setHeader('x-served-by', id);
    res.setHeader('access-control-allow-origin', '*');
    if (path === '/healthz') {
      res.end('ok\n');
    } else if (path === '/catalog.json') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(STAND_IN_CATALOG));
    } else if (path === '/vod/demo-ts/master.m3u8') {
      res.setHeader('content-type', 'application/vnd.apple.mpegurl');
      res.end(STAND_IN_MASTER);
    } else if (SEGMENT_PATH.test(path)) {
      res.setHeader('content-type', 'video/mp2t');
      res.end(Buffer.alloc(SEGMENT_BYTES, 0x47));
    } else if (path === '/metrics') {
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end(standInMetrics(seen));
    } else {
      res.statusCode = 404;
      res.end('not found\n');
    }
  };
}

function listenOn(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startStandInEdge(id: string): Promise<StandInEdge> {
  const seen: StandInEdge['seen'] = [];
  let server = createServer(handler(id, seen));
  const port = await listenOn(server, 0);
  return {
    id,
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    kill: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    revive: async () => {
      server = createServer(handler(id, seen));
      await listenOn(server, port);
    },
  };
}
