import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createPeerHopAuth, readPeerSecretFile } from './peer-hop.js';

const SECRET = 'a'.repeat(32);

describe('peer hop header', () => {
  const auth = createPeerHopAuth(SECRET);

  it('is believed for the target it was signed for, naming the sender', () => {
    assert.equal(auth.verify(auth.sign('edge-2', '/vod/a/seg-1.ts'), '/vod/a/seg-1.ts'), 'edge-2');
  });

  it('is refused for another target, under another secret, altered, or malformed', () => {
    const value = auth.sign('edge-2', '/vod/a/seg-1.ts');
    assert.equal(auth.verify(value, '/vod/a/seg-2.ts'), undefined);
    assert.equal(createPeerHopAuth('b'.repeat(32)).verify(value, '/vod/a/seg-1.ts'), undefined);
    assert.equal(auth.verify(value.replace('edge-2', 'edge-3'), '/vod/a/seg-1.ts'), undefined);
    for (const bad of ['', 'edge-2', 'edge-2 x y', 'bad/id abc', ['a', 'b'], undefined]) assert.equal(auth.verify(bad, '/vod/a/seg-1.ts'), undefined, String(bad));
  });

  it('needs a secret of at least 32 characters, from a file (a bad file names the flag)', async () => {
    assert.throws(() => createPeerHopAuth('short'), /at least 32/);
    const dir = await mkdtemp(join(tmpdir(), 'peer-hop-'));
    try {
      await writeFile(join(dir, 'ok'), `${SECRET}\n`);
      await writeFile(join(dir, 'short'), 'x'.repeat(20));
      assert.equal(readPeerSecretFile(join(dir, 'ok')), SECRET);
      assert.equal(readPeerSecretFile(undefined), undefined);
      assert.throws(() => readPeerSecretFile(join(dir, 'short')), /--sibling-secret-file.*at least 32/);
      assert.throws(() => readPeerSecretFile(join(dir, 'missing')), /--sibling-secret-file.*cannot read/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
