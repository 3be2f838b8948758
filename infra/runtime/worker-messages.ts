import type { Worker } from 'node:cluster';
import type { Serializable } from 'node:child_process';

/**
 * Sends a message from the cluster primary to a worker that may be exiting (during a drain, workers
 * go one by one). A worker gone between the check and the write is expected, not an error: without
 * a callback Node raises that EPIPE as an unhandled 'error' event and the primary dies with it.
 */
export function sendToWorker(worker: Worker, message: Serializable): boolean {
  if (!worker.isConnected()) return false;
  return worker.send(message, undefined, () => {});
}
