import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { checkPinning, cpusOf, pinProcessTree } from './cpu-pinning.js';

const allowedCpus = async (pid: number): Promise<string> => /Cpus_allowed_list:\s*(\S+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]!;

describe('bench CPU pinning', () => {
  it('reads CPU numbers and ranges, in order, once each', () => {
    assert.deepEqual(cpusOf('1', 2), [1]);
    assert.deepEqual(cpusOf('5,1-3,2', 8), [1, 2, 3, 5]);
  });

  it('refuses a list that is not numbers and ranges, a backwards range, or a CPU the machine lacks', () => {
    assert.throws(() => cpusOf('one', 2), /expected numbers and ranges/);
    assert.throws(() => cpusOf('0,', 2), /expected numbers and ranges/);
    assert.throws(() => cpusOf('3-1', 4), /runs backwards/);
    assert.throws(() => cpusOf('2', 2), /CPU 2 does not exist \(this machine has 2: 0-1\)/);
  });

  it('keeps the client and the servers on CPUs they do not share', () => {
    assert.deepEqual(checkPinning('0', '1', 2), { client: [0], servers: [1] });
    assert.throws(() => checkPinning('0-1', '1', 2), /would share CPU 1/);
  });

  it('pins every process of a tree, children included', async () => {
    // A shell with a child of its own: both must end up on CPU 0.
    const shell = spawn('sh', ['-c', 'sleep 30 & wait'], { stdio: 'ignore' });
    let pids: number[] = [];
    try {
      for (let tries = 0; pids.length < 2 && tries < 50; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        pids = await pinProcessTree(shell.pid!, [0]);
      }
      assert.equal(pids.length, 2);
      for (const pid of pids) assert.equal(await allowedCpus(pid), '0');
    } finally {
      const exited = once(shell, 'exit');
      for (const pid of [...pids].reverse()) process.kill(pid, 'SIGKILL');
      if (pids.length === 0) shell.kill('SIGKILL');
      await exited;
    }
  });
});
