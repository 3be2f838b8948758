import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_METRICS_PREFIX, processFigures } from './process-sampler.js';

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
`;

describe('process figures from /metrics', () => {
  it('reads resident memory, heap used and total, the old generation, full GCs, external memory, open fds and event-loop p99 (in ms) under the service\'s prefix', () => {
    assert.deepEqual(processFigures(EDGE_METRICS, DEFAULT_METRICS_PREFIX.edge), {
      rssBytes: 83_886_080,
      heapUsedBytes: 20_971_520,
      heapTotalBytes: 31_457_280,
      externalBytes: 4_194_304,
      // The old and large-object spaces; the new and code spaces are not the old generation.
      oldGenerationBytes: 14_680_064,
      majorGcs: 3,
      openFds: 31,
      eventLoopP99Ms: 12.5,
    });
    // The origin's default metrics carry no prefix.
    assert.equal(DEFAULT_METRICS_PREFIX.origin, '');
    assert.deepEqual(processFigures(EDGE_METRICS.replaceAll('streamedge_edge_', ''), DEFAULT_METRICS_PREFIX.origin)?.openFds, 31);
  });

  it('counts no full GC yet as 0, as prom-client writes a GC kind only once one happened', () => {
    assert.equal(processFigures(EDGE_METRICS.replace(/^.*kind="major".*$/m, ''), DEFAULT_METRICS_PREFIX.edge)?.majorGcs, 0);
  });

  it('gives nothing when a figure is missing or not a number, rather than a partial sample', () => {
    assert.equal(processFigures(EDGE_METRICS.replace(/^.*space="(old|large_object)".*$/gm, ''), DEFAULT_METRICS_PREFIX.edge), undefined);
    assert.equal(processFigures(EDGE_METRICS, DEFAULT_METRICS_PREFIX.balancer), undefined);
    assert.equal(processFigures(EDGE_METRICS.replace('open_fds 31', 'open_fds NaN'), DEFAULT_METRICS_PREFIX.edge), undefined);
    assert.equal(processFigures('', ''), undefined);
  });
});
