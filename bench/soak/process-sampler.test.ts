import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { processFigures } from './process-sampler.js';

const EDGE_METRICS = `# HELP streamedge_edge_process_resident_memory_bytes Resident memory size in bytes.
# TYPE streamedge_edge_process_resident_memory_bytes gauge
streamedge_edge_process_resident_memory_bytes 83886080
streamedge_edge_nodejs_heap_size_used_bytes 20971520
streamedge_edge_nodejs_heap_size_total_bytes 31457280
streamedge_edge_nodejs_external_memory_bytes 4194304
streamedge_edge_nodejs_heap_space_size_used_bytes{space="new"} 1048576
streamedge_edge_nodejs_heap_space_size_used_bytes{space="old"} 12582912
streamedge_edge_nodejs_heap_space_size_used_bytes{space="code"} 1048576
streamedge_edge_nodejs_heap_space_size_used_bytes{space="large_object"} 2097152
streamedge_edge_nodejs_gc_duration_seconds_count{kind="minor"} 40
streamedge_edge_nodejs_gc_duration_seconds_count{kind="major"} 3
streamedge_edge_process_open_fds 31
streamedge_edge_nodejs_eventloop_lag_p99_seconds 0.0125
streamedge_edge_responses_total{cache_status="hit"} 12
streamedge_edge_open_connections 9
`;

/** The same figures as the origin writes them: default metrics without a prefix, its own gauges under streamedge_origin_. */
const ORIGIN_METRICS = EDGE_METRICS.replaceAll('streamedge_edge_open_connections', 'streamedge_origin_open_connections').replaceAll('streamedge_edge_', '');

describe('process figures from /metrics', () => {
  it('reads resident memory, heap used and total, the old generation, full GCs, external memory, open fds, open connections and event-loop p99 (in ms) under the service\'s prefix', () => {
    const edge = {
      rssBytes: 83_886_080,
      heapUsedBytes: 20_971_520,
      heapTotalBytes: 31_457_280,
      externalBytes: 4_194_304,
      // The old and large-object spaces; the new and code spaces are not the old generation.
      oldGenerationBytes: 14_680_064,
      majorGcs: 3,
      openFds: 31,
      openConnections: 9,
      eventLoopP99Ms: 12.5,
    };
    assert.deepEqual(processFigures(EDGE_METRICS, 'edge'), edge);
    // A shield is an edge process: the same names.
    assert.deepEqual(processFigures(EDGE_METRICS, 'shield'), edge);
    assert.deepEqual(processFigures(ORIGIN_METRICS, 'origin'), edge);
    const balancer = EDGE_METRICS.replaceAll('streamedge_edge_', 'streamedge_balancer_');
    assert.deepEqual(processFigures(balancer, 'balancer'), edge);
  });

  it('counts no full GC yet as 0, as prom-client writes a GC kind only once one happened', () => {
    assert.equal(processFigures(EDGE_METRICS.replace(/^.*kind="major".*$/m, ''), 'edge')?.majorGcs, 0);
  });

  it('gives nothing when a figure is missing or not a number, rather than a partial sample', () => {
    assert.equal(processFigures(EDGE_METRICS.replace(/^.*space="(old|large_object)".*$/gm, ''), 'edge'), undefined);
    assert.equal(processFigures(EDGE_METRICS, 'balancer'), undefined);
    // Without its connection gauge, fds could not be told from connections: no sample.
    assert.equal(processFigures(EDGE_METRICS.replace('streamedge_edge_open_connections 9', ''), 'edge'), undefined);
    assert.equal(processFigures(EDGE_METRICS.replace('open_connections 9', 'open_connections NaN'), 'edge'), undefined);
    assert.equal(processFigures(ORIGIN_METRICS.replace('streamedge_origin_open_connections', 'streamedge_edge_open_connections'), 'origin'), undefined);
    assert.equal(processFigures(EDGE_METRICS.replace('open_fds 31', 'open_fds NaN'), 'edge'), undefined);
    assert.equal(processFigures('', 'origin'), undefined);
  });
});
