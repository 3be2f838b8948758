import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { freePorts } from './free-ports.js';

describe('freePorts', () => {
  it('gives distinct ports below the ephemeral range that a server can then listen on', async () => {
    const ephemeralStart = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    const ports = await freePorts(20);
    assert.equal(new Set(ports).size, 20);
    for (const port of ports) assert.ok(port >= 10_000 && port < ephemeralStart, `${port} is below ${ephemeralStart}`);
    const server = createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(ports[0], '127.0.0.1', resolve));
    await new Promise((resolve) => server.close(resolve));
  });
});
