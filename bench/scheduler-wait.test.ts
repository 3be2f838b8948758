import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ownThreadSchedStat, parseSchedStat, treeSchedStat } from './scheduler-wait.js';

describe('scheduler wait (schedstat)', () => {
  it('reads ns on a CPU and ns waiting for one as ms', () => {
    assert.deepEqual(parseSchedStat('202574612 712147005 523\n'), { runMs: 202.574612, waitMs: 712.147005 });
  });

  it('refuses a line that is not three counters', () => {
    assert.throws(() => parseSchedStat('1 2'), /expected three counters, got "1 2"/);
    assert.throws(() => parseSchedStat('1 -2 3'), /expected three counters/);
  });

  it('sees this thread\'s own run time grow with work, and counts it in its process\'s totals', async () => {
    const before = ownThreadSchedStat();
    // Busy on purpose until getrusage says 30 ms of CPU went by (wall time would count waits too).
    const cpuBefore = process.cpuUsage();
    const spent = (): number => {
      const used = process.cpuUsage(cpuBefore);
      return (used.user + used.system) / 1000;
    };
    while (spent() < 30);
    const after = ownThreadSchedStat();
    assert.ok(after.runMs - before.runMs >= 20, `ran ${after.runMs - before.runMs} ms`);
    const tree = await treeSchedStat(process.pid);
    assert.ok(tree.runMs >= after.runMs);
    assert.ok(tree.waitMs >= after.waitMs);
  });
});
