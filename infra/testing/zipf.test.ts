import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom, zipfSampler } from './zipf.js';

test('seededRandom replays the same sequence for a seed and stays in [0, 1)', () => {
  const a = seededRandom(7);
  const b = seededRandom(7);
  const values = Array.from({ length: 1000 }, () => a());
  assert.deepEqual(values, Array.from({ length: 1000 }, () => b()));
  assert.ok(values.every((value) => value >= 0 && value < 1));
  assert.notDeepEqual(values.slice(0, 10), Array.from({ length: 10 }, seededRandom(8)));
});

test('zipfSampler draws rank k with probability proportional to 1/(k+1)^s', () => {
  const n = 50;
  const s = 0.9;
  const draw = zipfSampler(n, s, seededRandom(1));
  const counts = new Array<number>(n).fill(0);
  const samples = 200_000;
  for (let i = 0; i < samples; i++) counts[draw()]!++;
  const total = Array.from({ length: n }, (_, k) => 1 / Math.pow(k + 1, s)).reduce((sum, weight) => sum + weight, 0);
  for (const k of [0, 1, 9, 49]) {
    const expected = samples / Math.pow(k + 1, s) / total;
    assert.ok(Math.abs(counts[k]! - expected) < 5 * Math.sqrt(expected) + 1, `rank ${k}: ${counts[k]} draws, expected ≈ ${expected.toFixed(0)}`);
  }
  assert.throws(() => zipfSampler(0, s, Math.random), TypeError);
});
