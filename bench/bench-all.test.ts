import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planBenches, processLabel } from './bench-all.js';

describe('npm run bench', () => {
  it('runs edge, proxy and cluster in sequence, each bounded, the quick plan with fewer and shorter rounds', () => {
    const full = planBenches(false);
    const quick = planBenches(true);
    assert.deepEqual(full.map((plan) => plan.benchmark), ['edge-vs-nginx', 'proxy-overhead', 'cluster-efficiency']);
    assert.deepEqual(quick.map((plan) => plan.benchmark), ['edge-vs-nginx', 'proxy-overhead', 'cluster-efficiency']);
    for (const [index, plan] of quick.entries()) {
      assert.ok(plan.timeoutMs > 0 && plan.timeoutMs <= full[index]!.timeoutMs);
      assert.ok(plan.args.length > 0, `${plan.benchmark}: quick passes smaller settings`);
    }
  });

  it('names processes in the RSS chart by streamedge role and id, or by short program name, and leaves out helpers', () => {
    assert.equal(processLabel(['/usr/bin/node', '/r/dist/stack/cli/streamedge.js', 'edge', '--port', '0', '--id', 'bench-edge'], 'node', 7), 'edge bench-edge pid 7');
    assert.equal(processLabel(['/usr/bin/node', '/r/dist/stack/cli/streamedge.js', 'origin', '--port', '0'], 'node', 8), 'origin pid 8');
    assert.equal(processLabel(['/usr/bin/node', '/r/dist/bench/edge-vs-nginx.js'], 'node', 9), 'bench runner pid 9');
    // nginx rewrites its command line into a title; the kernel's short name stays readable.
    assert.equal(processLabel(['nginx: master process /usr/sbin/nginx -p /tmp/x -c /tmp/x/nginx.conf'], 'nginx', 10), 'nginx pid 10');
    assert.equal(processLabel(['/usr/bin/node', '/r/dist/stack/orphan-guard-process.js'], 'node', 11), undefined);
    assert.equal(processLabel(['wrk', '-t1'], 'wrk', 12), undefined);
    assert.equal(processLabel([], '', 13), 'process pid 13');
  });
});
