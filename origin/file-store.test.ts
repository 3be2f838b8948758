import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { after, before, test } from 'node:test';
import { createFileStore, type StoredFile } from './file-store.js';

let workDir: string;
let root: string;

before(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'streamedge-file-store-'));
  root = join(workDir, 'catalog');
  await mkdir(join(root, 'vod', 'a'), { recursive: true });
  await writeFile(join(workDir, 'secret.txt'), 'root:x:0:0\n');
  await writeFile(join(root, 'vod', 'a', 'small.ts'), 'small bytes');
  await writeFile(join(root, 'vod', 'a', 'big.ts'), Buffer.alloc(300_000, 7));
  await symlink(join(workDir, 'secret.txt'), join(root, 'vod', 'a', 'escape.ts'));
  await symlink(workDir, join(root, 'vod', 'up'));
  await symlink(join(root, 'vod', 'a', 'small.ts'), join(root, 'vod', 'a', 'inside.ts'));
});

after(() => rm(workDir, { recursive: true, force: true }));

const etagOf = (bytes: Buffer): string => `"${createHash('sha256').update(bytes).digest('base64url')}"`;

async function found(result: Awaited<ReturnType<Awaited<ReturnType<typeof createFileStore>>['lookup']>>): Promise<StoredFile> {
  assert.ok(result.found, JSON.stringify(result));
  return result.file;
}

test('small files come from memory with the hash of their bytes', async () => {
  const store = await createFileStore({ root });
  const file = await found(await store.lookup(['vod', 'a', 'small.ts']));
  assert.equal(file.etag, etagOf(Buffer.from('small bytes')));
  assert.equal(file.bytes?.toString(), 'small bytes');
  assert.equal((await buffer(file.body(6, 10))).toString(), 'bytes');
  const viaLink = await found(await store.lookup(['vod', 'a', 'inside.ts']));
  assert.equal(viaLink.etag, file.etag, 'a symlink inside the catalog is fine');
});

test('large files are streamed; their hash is computed from the bytes and follows a new version', async () => {
  const store = await createFileStore({ root, maxCachedFileBytes: 1000 });
  const big = join(root, 'vod', 'a', 'big.ts');
  const file = await found(await store.lookup(['vod', 'a', 'big.ts']));
  assert.equal(file.bytes, undefined);
  assert.equal(file.etag, etagOf(Buffer.alloc(300_000, 7)));
  const part = await buffer(file.body(299_990, 299_999));
  assert.deepEqual(part, Buffer.alloc(10, 7));

  const again = await found(await store.lookup(['vod', 'a', 'big.ts']));
  assert.equal(again.etag, file.etag);
  await again.release();

  await writeFile(big, Buffer.alloc(300_000, 8));
  const changed = await found(await store.lookup(['vod', 'a', 'big.ts']));
  assert.equal(changed.etag, etagOf(Buffer.alloc(300_000, 8)));
  await changed.release();
});

test('symlinks resolving outside the catalog, directories and missing files are refused', async () => {
  const store = await createFileStore({ root });
  assert.deepEqual(await store.lookup(['vod', 'a', 'escape.ts']), { found: false, reason: 'outside' });
  assert.deepEqual(await store.lookup(['vod', 'up', 'secret.txt']), { found: false, reason: 'outside' });
  assert.deepEqual(await store.lookup(['vod', 'a']), { found: false, reason: 'not a file' });
  assert.deepEqual(await store.lookup(['vod', 'a', 'nope.ts']), { found: false, reason: 'missing' });
});

test('bad options are named', async () => {
  await assert.rejects(createFileStore({ root: '' }), /root/);
  await assert.rejects(createFileStore({ root, maxCachedBytes: 0 }), /maxCachedBytes/);
  await assert.rejects(createFileStore({ root, maxCachedFileBytes: -1 }), /maxCachedFileBytes/);
});
