// What a process tree holds, from Linux /proc: resident memory and open file descriptors, for the
// benchmarks' memory figures and the fuzz and abuse checks that a server gives back what it took.
import { readdir, readFile } from 'node:fs/promises';

async function statusField(pid: number, field: string): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The pid and every descendant (an edge's cluster workers, nginx's workers). */
export async function processTree(root: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const ppid = await statusField(pid, 'PPid');
    if (ppid !== undefined) parents.set(ppid, [...(parents.get(ppid) ?? []), pid]);
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    tree.push(pid);
    queue.push(...(parents.get(pid) ?? []));
  }
  return tree;
}

/** Resident set size in bytes of each process in the tree (Linux /proc). */
export async function treeRss(root: number): Promise<{ pid: number; rssBytes: number }[]> {
  const pids = await processTree(root);
  const sizes = await Promise.all(pids.map(async (pid) => ({ pid, rssBytes: ((await statusField(pid, 'VmRSS')) ?? 0) * 1024 })));
  return sizes.filter((entry) => entry.rssBytes > 0);
}

export interface Footprint {
  readonly rssBytes: number;
  readonly fds: number;
}

async function openFds(pid: number): Promise<number> {
  try {
    return (await readdir(`/proc/${pid}/fd`)).length;
  } catch {
    return 0;
  }
}

/** Resident bytes and open file descriptors summed over the tree (an edge's workers included). */
export async function treeFootprint(root: number): Promise<Footprint> {
  const pids = await processTree(root);
  const [rss, fds] = await Promise.all([treeRss(root), Promise.all(pids.map(openFds))]);
  return { rssBytes: rss.reduce((sum, entry) => sum + entry.rssBytes, 0), fds: fds.reduce((sum, count) => sum + count, 0) };
}
