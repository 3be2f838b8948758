import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPathwayChooser } from './pathway-chooser.js';

test('the chooser starts on the master\'s pathway, leaves a failed one for its penalty, and follows the steering priority', () => {
  let now = 0;
  const chooser = createPathwayChooser({ pathways: ['edge-1', 'edge-2', 'edge-3'], initial: 'edge-2', penaltyMs: 1000, now: () => now });
  assert.equal(chooser.current(), 'edge-2');
  chooser.penalize('edge-2');
  assert.equal(chooser.current(), 'edge-1');
  assert.equal(chooser.switches, 1);
  chooser.prioritize(['edge-3', 'unknown-edge']);
  assert.equal(chooser.current(), 'edge-3');
  now = 1001; // the penalty is over; edge-3 stays first as the manifest said
  assert.equal(chooser.current(), 'edge-3');
  chooser.prioritize(['edge-2']);
  assert.equal(chooser.current(), 'edge-2');
});

test('when every pathway is penalized the one penalized longest ago is tried again', () => {
  let now = 0;
  const chooser = createPathwayChooser({ pathways: ['a', 'b'], initial: undefined, penaltyMs: 10_000, now: () => now });
  chooser.penalize('a');
  now = 5;
  chooser.penalize('b');
  assert.equal(chooser.current(), 'a');
  assert.throws(() => createPathwayChooser({ pathways: [], initial: undefined, penaltyMs: 1, now: () => 0 }), TypeError);
});
