// Which pathway (edge) a synthetic viewer uses next, the way hls.js's content steering does it:
// the steering manifest's PATHWAY-PRIORITY, reloaded every TTL, minus pathways penalized after an
// error, so a dead edge is left at the first failure and retried only after the penalty.

export interface PathwayChooserOptions {
  /** Pathways the master playlist offers, in its order. */
  readonly pathways: readonly string[];
  /** The master's PATHWAY-ID (the balancer's first choice). */
  readonly initial: string | undefined;
  readonly penaltyMs: number;
  readonly now: () => number;
}

export interface PathwayChooser {
  /** The pathway to use now. */
  current(): string;
  /** A request on this pathway failed: leave it for the penalty time. */
  penalize(pathway: string): void;
  /** A new PATHWAY-PRIORITY from the steering manifest (unknown ids ignored). */
  prioritize(priority: readonly string[]): void;
  /** How many times the current pathway changed. */
  readonly switches: number;
}

export function createPathwayChooser(options: PathwayChooserOptions): PathwayChooser {
  if (options.pathways.length === 0) throw new TypeError('pathway chooser: at least one pathway');
  let priority = [...options.pathways];
  if (options.initial && priority.includes(options.initial)) priority = [options.initial, ...priority.filter((id) => id !== options.initial)];
  const penalizedUntil = new Map<string, number>();
  let last: string | undefined;
  let switches = 0;
  const current = (): string => {
    const now = options.now();
    // When every pathway is penalized the least recently penalized one is tried again.
    const usable = priority.find((id) => (penalizedUntil.get(id) ?? 0) <= now)
      ?? [...priority].sort((a, b) => (penalizedUntil.get(a) ?? 0) - (penalizedUntil.get(b) ?? 0))[0]!;
    if (last !== undefined && usable !== last) switches++;
    last = usable;
    return usable;
  };
  return {
    current,
    penalize: (pathway) => void penalizedUntil.set(pathway, options.now() + options.penaltyMs),
    prioritize: (next) => {
      const known = next.filter((id) => options.pathways.includes(id));
      if (known.length > 0) priority = [...known, ...options.pathways.filter((id) => !known.includes(id))];
    },
    get switches() {
      return switches;
    },
  };
}
