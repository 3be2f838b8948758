// Issue 11, item 6: 10,000 malformed and adversarial requests (seeded: the same cases every run) to a
// live `streamedge edge` and origin; then no finding, the
// process alive and healthy, cached objects still the origin's bytes, RSS and fds back near baseline.
// More, or another seed: npm run fuzz -- --target edge --seed N --requests N
import { describe, it } from 'node:test';
import { assertFuzzPassed, fuzzLive } from '../../stack/test/fuzz-stand.js';

describe('edge under the HTTP fuzzer', () => {
  it('answers 10,000 hostile requests validly or closes cleanly, and gives back what they took', { timeout: 240_000 }, async () => {
    assertFuzzPassed(await fuzzLive({ target: 'edge', seed: 20261203, requests: 10_000, concurrency: 48, edgeWorkers: 1 }), 10_000);
  });
});
