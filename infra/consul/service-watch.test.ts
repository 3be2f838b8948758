import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseHealthEntries } from './service-watch.js';

describe('parseHealthEntries', () => {
  it('keeps valid instances, falls back to the node address, and sorts by id', () => {
    const instances = parseHealthEntries([
      { Node: { Address: '127.0.0.9' }, Service: { ID: 'edge-2', Address: '', Port: 8082, Meta: { region: 'eu' }, Tags: [] } },
      { Node: { Address: '127.0.0.1' }, Service: { ID: 'edge-1', Address: '127.0.0.1', Port: 8081, Meta: { region: 'us', n: 5 } } },
    ]);
    assert.deepEqual(
      instances.map((instance) => [instance.id, instance.address, instance.port, instance.meta]),
      [
        ['edge-1', '127.0.0.1', 8081, { region: 'us' }],
        ['edge-2', '127.0.0.9', 8082, { region: 'eu' }],
      ],
    );
  });

  it('drops entries without an id, an address or a valid port', () => {
    const instances = parseHealthEntries([
      { Service: { ID: '', Address: '127.0.0.1', Port: 1 } },
      { Service: { ID: 'a', Port: 1 } },
      { Service: { ID: 'b', Address: '127.0.0.1', Port: 70000 } },
      { Service: { ID: 'c', Address: '127.0.0.1', Port: '80' } },
      null,
    ]);
    assert.deepEqual(instances, []);
  });

  it('rejects an answer that is not a list', () => {
    assert.throws(() => parseHealthEntries({ not: 'a list' }), /not an array/);
  });
});
