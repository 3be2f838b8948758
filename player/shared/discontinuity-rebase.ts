/**
 * hls.js 1.x keeps per-discontinuity timestamps in a sparse array indexed by discontinuity number
 * and walks or copies it (`initPTS.some`, `initPTS.slice`) on every playlist refresh and every
 * transmuxed fragment, so its CPU cost grows with EXT-X-DISCONTINUITY-SEQUENCE itself. A
 * clock-derived live channel that loops since a distant epoch carries sequences in the hundreds of
 * millions, and the page spends seconds of main-thread time per refresh. Rebasing the sequence to
 * just below the first value a session saw keeps the numbers small; every playlist of the session
 * (every rendition, every pathway) is shifted by the same amount, so they stay aligned.
 */
const TAG = /^#EXT-X-DISCONTINUITY-SEQUENCE:(\d+)[ \t]*$/m;

// Headroom below the first value seen, for a playlist from a lagging edge that is a little older.
const HEADROOM = 1000;

export function discontinuitySequenceOf(playlist: string): number | null {
  const match = TAG.exec(playlist);
  return match ? Number(match[1]) : null;
}

export class DiscontinuityRebaser {
  #base: number | null = null;

  /** The playlist with its discontinuity sequence shifted down, or unchanged if it has none. */
  rewrite(playlist: string): string {
    const sequence = discontinuitySequenceOf(playlist);
    if (sequence === null || !Number.isSafeInteger(sequence)) return playlist;
    this.#base ??= Math.max(0, sequence - HEADROOM);
    // Older than the headroom allows: leave it alone rather than invent a negative number.
    if (sequence < this.#base) return playlist;
    return playlist.replace(TAG, `#EXT-X-DISCONTINUITY-SEQUENCE:${sequence - this.#base}`);
  }
}
