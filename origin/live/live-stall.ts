// Whether a live playlist on disk is still being written. The origin refuses a stalled one with a
// 503 rather than serve a frozen window that players would poll forever; every replica decides
// the same way because they read the same file and its modification time from shared storage.

/** A playlist not rewritten for this many target durations is stalled (a healthy one: every ~1). */
export const STALL_TARGET_DURATIONS = 3;

export type LiveFreshness =
  | { readonly stalled: false }
  | { readonly stalled: true; readonly reason: string; readonly retryAfterSeconds: number };

export function targetDurationOf(playlist: string): number | undefined {
  const match = /^#EXT-X-TARGETDURATION:(\d{1,6})[ \t]*$/m.exec(playlist);
  const value = match ? Number(match[1]) : undefined;
  return value !== undefined && value > 0 ? value : undefined;
}

/**
 * Judges a media playlist from its text and when it was last written. A finished stream
 * (EXT-X-ENDLIST) never stalls; one without a usable target duration is judged against `fallbackTargetSeconds`.
 */
export function liveFreshness(playlist: string, modifiedMs: number, nowMs: number, fallbackTargetSeconds = 2): LiveFreshness {
  if (/^#EXT-X-ENDLIST[ \t]*$/m.test(playlist)) return { stalled: false };
  const target = targetDurationOf(playlist) ?? fallbackTargetSeconds;
  const silentMs = nowMs - modifiedMs;
  if (silentMs <= STALL_TARGET_DURATIONS * target * 1000) return { stalled: false };
  return {
    stalled: true,
    reason: `live encoder stalled: playlist not updated for ${Math.floor(silentMs / 1000)} s (target duration ${target} s)`,
    retryAfterSeconds: target,
  };
}
