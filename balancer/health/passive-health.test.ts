import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { EdgeNode } from '../discovery/edge-node.js';
import { createSnapshot } from '../discovery/edge-snapshot.js';
import { createPassiveHealth, type EjectionReason } from './passive-health.js';

const edge: EdgeNode = { id: 'edge-1', url: 'http://127.0.0.1:1', region: 'us-east', lat: 0, lon: 0, weight: 1 };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function harness(probeResults: (EjectionReason | undefined)[]) {
  const probes: string[] = [];
  const ejections: EjectionReason[] = [];
  const readmissions: string[] = [];
  const health = createPassiveHealth({
    logger: pino({ level: 'silent' }),
    backoffMs: 40,
    maxBackoffMs: 160,
    probe: async (probed) => {
      probes.push(probed.url);
      return probeResults.length > 1 ? probeResults.shift() : probeResults[0];
    },
    onEject: (_edge, reason) => ejections.push(reason),
    onReadmit: (readmitted) => readmissions.push(readmitted.id),
  });
  return { health, probes, ejections, readmissions };
}

describe('createPassiveHealth', () => {
  it('ejects at once and readmits only after the back-off and a successful probe', async () => {
    const { health, probes, ejections, readmissions } = harness(['connect-refused', undefined]);
    health.setSnapshot(createSnapshot([edge], 'consul'));
    health.eject(edge, 'connect-refused');
    health.eject(edge, 'connection-reset'); // already out: no double count
    assert.equal(health.isAvailable('edge-1'), false);
    assert.deepEqual(ejections, ['connect-refused']);
    assert.equal(health.health('edge-1').state, 'ejected');
    assert.equal(health.health('edge-1').reason, 'connect-refused');
    await sleep(60);
    assert.equal(probes.length, 1, 'first probe after the back-off');
    assert.equal(health.isAvailable('edge-1'), false, 'a failed probe keeps it out');
    await sleep(120);
    assert.equal(probes.length, 2, 'second probe after a doubled back-off');
    assert.equal(health.isAvailable('edge-1'), true);
    assert.deepEqual(readmissions, ['edge-1']);
    assert.equal(health.health('edge-1').ejections, 1);
    health.stop();
  });

  it('waits for Consul to list the edge as passing before probing it back in', async () => {
    const { health, probes } = harness([undefined]);
    health.setSnapshot(createSnapshot([], 'consul'));
    health.eject(edge, 'connect-timeout');
    await sleep(80);
    assert.equal(probes.length, 0, 'not probed while Consul does not list it');
    assert.equal(health.isAvailable('edge-1'), false);
    // Back in Consul, at a new address after a restart: probed there and readmitted.
    health.setSnapshot(createSnapshot([{ ...edge, url: 'http://127.0.0.1:2' }], 'consul'));
    await sleep(20);
    assert.deepEqual(probes, ['http://127.0.0.1:2']);
    assert.equal(health.isAvailable('edge-1'), true);
    health.stop();
  });

  it('suspect: probes now and ejects with the probe\'s reason only if it fails', async () => {
    const alive = harness([undefined]);
    alive.health.suspect(edge);
    await sleep(10);
    assert.equal(alive.health.isAvailable('edge-1'), true);
    assert.equal(alive.probes.length, 1);
    const dead = harness(['connect-refused']);
    dead.health.suspect(edge);
    await sleep(10);
    assert.equal(dead.health.isAvailable('edge-1'), false);
    assert.deepEqual(dead.ejections, ['connect-refused']);
    alive.health.stop();
    dead.health.stop();
  });

  it('validates its options', () => {
    assert.throws(() => createPassiveHealth({ logger: pino({ level: 'silent' }), backoffMs: 0, maxBackoffMs: 1, probe: async () => undefined }), TypeError);
    assert.throws(() => createPassiveHealth({ logger: pino({ level: 'silent' }), backoffMs: 10, maxBackoffMs: 5, probe: async () => undefined }), TypeError);
  });
});
