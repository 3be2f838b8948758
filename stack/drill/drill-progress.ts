// The line a running drill shows: rewritten in place on a terminal, plain lines (at most one per
// phase change or every few seconds) when the output is a file or a pipe.
import type { DrillStatus } from './drill-run.js';

export interface DrillProgress {
  update(status: DrillStatus): void;
  /** Clears the rewritten line so the verdict starts on a clean one. */
  done(): void;
}

const PLAIN_INTERVAL_MS = 5000;

export function formatStatus(scenario: string, status: DrillStatus): string {
  return [
    `drill ${scenario}`,
    `${status.phase} ${(status.elapsedMs / 1000).toFixed(1)} s`,
    `${status.viewers} viewers`,
    `${status.stalledNow} stalled now`,
    `${status.failed} failed requests`,
    status.detectMs === undefined ? 'not detected yet' : `detected after ${status.detectMs} ms`,
  ].join(' · ');
}

export function createDrillProgress(scenario: string, stream: NodeJS.WriteStream): DrillProgress {
  const tty = stream.isTTY === true;
  let lastPhase: string | undefined;
  let lastPrinted = 0;
  let shown = false;
  return {
    update(status) {
      const line = formatStatus(scenario, status);
      if (tty) {
        stream.write(`\r\x1b[2K${line.slice(0, Math.max(20, (stream.columns ?? 120) - 1))}`);
        shown = true;
        return;
      }
      if (status.phase !== lastPhase || Date.now() - lastPrinted >= PLAIN_INTERVAL_MS) {
        stream.write(`${line}\n`);
        lastPhase = status.phase;
        lastPrinted = Date.now();
      }
    },
    done() {
      if (tty && shown) stream.write('\r\x1b[2K');
    },
  };
}
