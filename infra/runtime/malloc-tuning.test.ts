import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MMAP_THRESHOLD_BYTES, serviceMallocEnv } from './malloc-tuning.js';

test('services get glibc\'s mmap threshold fixed at 128 KiB, unless the environment sets its own', () => {
  assert.equal(MMAP_THRESHOLD_BYTES, 131_072);
  assert.deepEqual(serviceMallocEnv({}), { MALLOC_MMAP_THRESHOLD_: '131072' });
  assert.deepEqual(serviceMallocEnv({ MALLOC_MMAP_THRESHOLD_: '262144', PATH: '/usr/bin' }), { MALLOC_MMAP_THRESHOLD_: '262144' });
});
