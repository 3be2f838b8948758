import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failureOf, planBenches, processLabel } from './bench-all.js';

const MINUTE = 60_000;

describe('npm run bench', () => {
  it('runs edge, proxy, cluster and a short soak in sequence, each bounded, the quick plan with fewer and shorter rounds', () => {
    const full = planBenches(false);
    const quick = planBenches(true);
    assert.deepEqual(full.map((plan) => plan.benchmark), ['edge-vs-nginx', 'proxy-overhead', 'cluster-efficiency', 'soak']);
    assert.deepEqual(quick.map((plan) => plan.benchmark), ['edge-vs-nginx', 'proxy-overhead', 'cluster-efficiency', 'soak']);
    // The soak is bounded by its --minutes, well inside its time limit.
    for (const soak of [full.at(-1)!, quick.at(-1)!]) assert.ok(Number(soak.args[soak.args.indexOf('--minutes') + 1]) * MINUTE < soak.timeoutMs / 2);
    for (const [index, plan] of quick.entries()) {
      assert.ok(plan.timeoutMs > 0 && plan.timeoutMs <= full[index]!.timeoutMs);
      assert.ok(plan.args.length > 0, `${plan.benchmark}: quick passes smaller settings`);
    }
  });

  it('counts a benchmark as completed on exit code 0, or 3 (a missed target) with its report; anything else, or a timeout, as failed', () => {
    assert.equal(failureOf(0, undefined, true), undefined);
    assert.equal(failureOf(3, undefined, true), undefined);
    assert.equal(failureOf(3, undefined, false), 'exit code 3');
    assert.equal(failureOf(1, undefined, true), 'exit code 1');
    assert.equal(failureOf(143, 8 * MINUTE, true), 'timed out after 8 min');
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
