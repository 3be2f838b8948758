// glibc malloc's setting for streamedge's Node services (origin, edge, shield, balancer).
//
// glibc serves an allocation of at least its mmap threshold (128 KiB at start) with its own
// mmap, returned to the kernel when freed. But the first time such a block is freed, glibc raises
// the threshold to that block's size (up to 32 MiB), and from then on serves blocks of that size
// from its heap, where freed space between blocks still in use stays resident. The services'
// segment-sized Buffers (100 KB–1 MB: an origin's file cache, an edge's misses) live until a full
// GC, so RSS kept climbing for 6 minutes to the heap's high-water mark: origins 58 → 70 MB in a
// 10-minute soak while their V8 heap and old generation stayed flat. With the threshold fixed,
// each such Buffer is mapped and unmapped on its own and RSS follows what is in use.
// Measured (bench/README.md, `npm run bench:soak`): every RSS target met (origins −0.9 % and
// −2.7 % against +5.8 % and +6.4 %). The price is on Buffers of a segment's size only: an origin
// serving segments from memory is as fast; one reading every request from disk spent about 10 %
// more CPU per request; an edge's misses showed no difference (figures in this file's commit).

/** Fixed at glibc's own starting value, so it never rises. */
export const MMAP_THRESHOLD_BYTES = 128 * 1024;

/**
 * The environment a service is started with for this: MALLOC_MMAP_THRESHOLD_ (read by glibc at
 * process start; other C libraries ignore it), unless `env` already sets its own.
 */
export function serviceMallocEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { MALLOC_MMAP_THRESHOLD_: env.MALLOC_MMAP_THRESHOLD_ ?? String(MMAP_THRESHOLD_BYTES) };
}
