import { createHash } from 'node:crypto';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { Readable } from 'node:stream';
import { LRUCache } from 'lru-cache';

/** A file of the catalog, opened and pinned to one version (the handle stays open until released). */
export interface StoredFile {
  readonly size: number;
  /** Strong ETag: a hash of the bytes, so every replica serving the same catalog agrees. */
  readonly etag: string;
  readonly lastModified: Date;
  /** The whole file when it is small enough to be held in memory. */
  readonly bytes: Buffer | undefined;
  /** The bytes start..end (inclusive) as a stream; releases the file when the stream ends. */
  body(start: number, end: number): Readable;
  /** Releases the file without reading it (HEAD, 304, 416). */
  release(): Promise<void>;
}

export interface FileStoreOptions {
  readonly root: string;
  /** Files up to this size are kept in memory with their hash (default 4 MiB). */
  readonly maxCachedFileBytes?: number;
  /** Total bytes of file bodies kept in memory (default 256 MiB). */
  readonly maxCachedBytes?: number;
}

export type LookupResult = { readonly found: true; readonly file: StoredFile } | { readonly found: false; readonly reason: 'missing' | 'outside' | 'not a file' };

export interface FileStore {
  /** Looks up a path of already-validated plain names relative to the root. */
  lookup(segments: readonly string[]): Promise<LookupResult>;
}

export function strongEtag(bytes: Buffer): string {
  return `"${createHash('sha256').update(bytes).digest('base64url')}"`;
}

interface CachedBody {
  readonly version: string;
  readonly bytes: Buffer;
  readonly etag: string;
}

async function hashOpenFile(handle: FileHandle): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of handle.createReadStream({ start: 0, autoClose: false })) hash.update(chunk as Buffer);
  return `"${hash.digest('base64url')}"`;
}

/**
 * Serves files below `root`. Symlinks are resolved and anything resolving outside the root is
 * refused. Small files are cached with their hash; large ones are streamed, their hash computed
 * once per file version (device, inode, size, mtime) and remembered.
 */
export async function createFileStore(options: FileStoreOptions): Promise<FileStore> {
  if (typeof options.root !== 'string' || options.root === '') throw new TypeError('createFileStore: root must be a directory path');
  const maxCachedFileBytes = options.maxCachedFileBytes ?? 4 * 1024 * 1024;
  const maxCachedBytes = options.maxCachedBytes ?? 256 * 1024 * 1024;
  if (!Number.isInteger(maxCachedFileBytes) || maxCachedFileBytes < 0) throw new TypeError('createFileStore: maxCachedFileBytes must be a whole number ≥ 0');
  if (!Number.isInteger(maxCachedBytes) || maxCachedBytes < 1) throw new TypeError('createFileStore: maxCachedBytes must be a whole number ≥ 1');
  const root = await realpath(options.root);
  const bodies = new LRUCache<string, CachedBody>({ maxSize: maxCachedBytes, sizeCalculation: (entry) => Math.max(1, entry.bytes.length) });
  const etags = new LRUCache<string, string>({ max: 50_000 });
  const hashing = new Map<string, Promise<string>>();

  const etagOf = (version: string, handle: FileHandle): Promise<string> => {
    const known = etags.get(version);
    if (known) return Promise.resolve(known);
    let pending = hashing.get(version);
    if (!pending) {
      pending = hashOpenFile(handle).finally(() => hashing.delete(version));
      hashing.set(version, pending);
      void pending.then((etag) => etags.set(version, etag), () => {});
    }
    return pending;
  };

  return {
    async lookup(segments) {
      let path: string;
      try {
        path = await realpath(join(root, ...segments));
      } catch {
        return { found: false, reason: 'missing' };
      }
      if (!path.startsWith(root + sep)) return { found: false, reason: 'outside' };
      const handle = await open(path, 'r').catch(() => undefined);
      if (!handle) return { found: false, reason: 'missing' };
      try {
        const stats = await handle.stat();
        if (!stats.isFile()) {
          await handle.close();
          return { found: false, reason: 'not a file' };
        }
        const version = `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}`;
        const lastModified = stats.mtime;
        if (stats.size <= maxCachedFileBytes) {
          let cached = bodies.get(path);
          if (cached?.version !== version) {
            const bytes = await handle.readFile();
            cached = { version, bytes, etag: strongEtag(bytes) };
            bodies.set(path, cached);
          }
          await handle.close();
          const { bytes, etag } = cached;
          return {
            found: true,
            file: {
              size: bytes.length,
              etag,
              lastModified,
              bytes,
              body: (start, end) => Readable.from([bytes.subarray(start, end + 1)]),
              release: async () => {},
            },
          };
        }
        const etag = await etagOf(version, handle);
        let released = false;
        const release = async (): Promise<void> => {
          if (released) return;
          released = true;
          await handle.close();
        };
        return {
          found: true,
          file: {
            size: stats.size,
            etag,
            lastModified,
            bytes: undefined,
            body: (start, end) => {
              released = true; // the stream owns the handle now and closes it when done or destroyed
              return handle.createReadStream({ start, end, autoClose: true });
            },
            release,
          },
        };
      } catch (error) {
        await handle.close().catch(() => {});
        throw error;
      }
    },
  };
}
