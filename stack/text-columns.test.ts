import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alignColumns } from './text-columns.js';

test('columns are padded to their widest cell, two spaces apart, with no trailing spaces', () => {
  assert.deepEqual(
    alignColumns([
      ['service', 'role', 'url'],
      ['edge-1', 'edge', 'http://127.0.0.1:8081'],
      ['balancer', 'balancer', ''],
    ]),
    ['service   role      url', 'edge-1    edge      http://127.0.0.1:8081', 'balancer  balancer'],
  );
  assert.deepEqual(alignColumns([]), []);
});
