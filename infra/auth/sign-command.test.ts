import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createUrlTokenVerifier, parseTokenKey } from './url-token.js';

const CLI = fileURLToPath(new URL('../../stack/cli/streamedge.js', import.meta.url));
const run = promisify(execFile);

test('streamedge sign prints a master URL its key verifies, and refuses a bad prefix', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sign-'));
  try {
    const keyFile = join(dir, 'k.key');
    await writeFile(keyFile, 'k7:sign-command-secret-0123456789\n', { mode: 0o600 });
    const { stdout } = await run(process.execPath, [CLI, 'sign', '--secret-file', keyFile, '--path', '/vod/demo-ts/', '--ttl', '2h', '--client-ip', '192.0.2.1']);
    const url = new URL(stdout.trim());
    assert.equal(url.origin + url.pathname, 'http://127.0.0.1:8080/vod/demo-ts/master.m3u8');
    const expires = Number(url.searchParams.get('exp'));
    assert.ok(Math.abs(expires - (Date.now() / 1000 + 7200)) < 60, `exp ${expires}`);
    const verifier = createUrlTokenVerifier([parseTokenKey('k7:sign-command-secret-0123456789')]);
    assert.equal(verifier.check(url.pathname + url.search, '192.0.2.1').ok, true);
    assert.deepEqual(verifier.check(url.pathname + url.search, '192.0.2.2'), { ok: false, reason: 'client address mismatch' });
    await assert.rejects(run(process.execPath, [CLI, 'sign', '--secret-file', keyFile, '--path', '/vod/demo-ts']), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 2);
      assert.match(error.stderr, /--path: the path prefix must start and end with \//);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
