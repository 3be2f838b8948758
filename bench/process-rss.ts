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
