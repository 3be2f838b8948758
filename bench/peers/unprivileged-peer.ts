import { constants } from 'node:fs';
import { access, chown, mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { startInPeerDirectory, startPeerProcess, type ConfiguredPeer } from './peer-process.js';

/** The Debian `nobody` account: peers that cache (and so parse origin bytes) never run as root. */
const NOBODY = { uid: 65534, gid: 65534 };

export interface PeerBinary {
  /** e.g. /usr/sbin/varnishd */
  readonly path: string;
  /** The Debian package that ships it, named in the error when it is missing. */
  readonly debianPackage: string;
  /** The environment variable that overrides the path. */
  readonly overrideVariable: string;
}

/** Fails with the package to install when a peer's binary is missing, before anything is started. */
export async function requirePeerBinary(binary: PeerBinary): Promise<void> {
  try {
    await access(binary.path, constants.X_OK);
  } catch {
    throw new Error(
      `${binary.path} is missing or not executable: install the Debian package "${binary.debianPackage}" ` +
        `(apt-get install ${binary.debianPackage}) or point ${binary.overrideVariable} at the binary`,
    );
  }
}

export interface UnprivilegedPeerSpec {
  readonly name: string;
  readonly binary: PeerBinary;
  /** Files to write into the peer's temporary directory, by path relative to it. */
  files(dir: string, port: number): Promise<Readonly<Record<string, string>>> | Readonly<Record<string, string>>;
  /** Empty directories the peer expects, relative to its temporary directory. */
  readonly directories?: readonly string[];
  args(dir: string, port: number): readonly string[];
  env?(dir: string): NodeJS.ProcessEnv;
}

async function chownTree(path: string, uid: number, gid: number): Promise<void> {
  await chown(path, uid, gid);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) await chownTree(child, uid, gid);
    else await chown(child, uid, gid);
  }
}

/**
 * Starts a peer on a free port from its own temporary directory (config, cache, logs), as `nobody`
 * when this process is root (else as the current user); the directory goes away when the peer stops
 * or fails to start.
 */
export async function startUnprivilegedPeer(spec: UnprivilegedPeerSpec): Promise<ConfiguredPeer> {
  await requirePeerBinary(spec.binary);
  return startInPeerDirectory(spec.name, async (dir, port) => {
    for (const relative of spec.directories ?? []) await mkdir(join(dir, relative), { recursive: true });
    for (const [relative, text] of Object.entries(await spec.files(dir, port))) {
      await mkdir(dirname(join(dir, relative)), { recursive: true });
      await writeFile(join(dir, relative), text);
    }
    const user = process.getuid?.() === 0 ? NOBODY : undefined;
    if (user) await chownTree(dir, user.uid, user.gid);
    return startPeerProcess(spec.name, spec.binary.path, spec.args(dir, port), port, {
      ...user,
      cwd: dir,
      env: { ...process.env, ...spec.env?.(dir) },
    });
  });
}
