// Request and reply over node:cluster IPC, both ways: a worker asks its primary (something only the
// primary can see, such as cluster-wide metrics), the primary asks its workers (each one's share).
// Every ask carries an id and a timeout, so a worker that is stopped, busy or gone costs a bounded
// wait, never a hung request; it may also carry a payload (what to purge, say) to its answerer.
import cluster, { type Worker } from 'node:cluster';
import type { Serializable } from 'node:child_process';
import { sendToWorker } from './worker-messages.js';

const ASK = 'cluster-request:ask';
const ANSWER = 'cluster-request:answer';

type ClusterMessage =
  | { type: typeof ASK; id: number; topic: string; payload?: Serializable }
  | { type: typeof ANSWER; id: number; value?: Serializable; error?: string };

/** Answers one topic, given the ask's payload; in the primary `asker` is the worker that asked. */
export type Answerer<P = undefined> = (asker: Worker | undefined, payload: P) => Serializable | Promise<Serializable>;

const answerers = new Map<string, Answerer<unknown>>();
const pending = new Map<number, (message: ClusterMessage & { type: typeof ANSWER }) => void>();
let nextId = 1;
let listening = false;

function isClusterMessage(value: unknown): value is ClusterMessage {
  const type = (value as { type?: unknown } | null)?.type;
  return type === ASK || type === ANSWER;
}

// A worker's send to a primary that is gone fails; the ask then times out like any other silence.
const sendToPrimary = (message: ClusterMessage): void => void process.send?.(message, undefined, undefined, () => {});

function receive(message: unknown, reply: (message: ClusterMessage) => void, asker: Worker | undefined): void {
  if (!isClusterMessage(message)) return;
  if (message.type === ANSWER) {
    pending.get(message.id)?.(message);
    return;
  }
  const answerer = answerers.get(message.topic);
  if (!answerer) {
    reply({ type: ANSWER, id: message.id, error: `nothing answers ${message.topic}` });
    return;
  }
  Promise.resolve()
    .then(() => answerer(asker, message.payload))
    .then(
      (value) => reply({ type: ANSWER, id: message.id, value }),
      (error: Error) => reply({ type: ANSWER, id: message.id, error: error.message }),
    );
}

function listen(): void {
  if (listening) return;
  listening = true;
  if (cluster.isPrimary) cluster.on('message', (worker: Worker, message: unknown) => receive(message, (answer) => sendToWorker(worker, answer), worker));
  else process.on('message', (message: unknown) => receive(message, sendToPrimary, undefined));
}

function ask<T>(send: (message: ClusterMessage) => void, topic: string, timeoutMs: number, payload?: Serializable): Promise<T> {
  listen();
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new Error(`no answer to ${topic} within ${timeoutMs} ms`));
    }, timeoutMs);
    pending.set(id, (answer) => {
      pending.delete(id);
      clearTimeout(timer);
      if (answer.error !== undefined) reject(new Error(answer.error));
      else resolve(answer.value as T);
    });
    send({ type: ASK, id, topic, payload });
  });
}

/** Answers asks on `topic` from the other side (workers' asks in the primary, the primary's in a worker). */
export function answerAsks<P = undefined>(topic: string, answerer: Answerer<P>): void {
  listen();
  // The payload's type is what asker and answerer of the topic agree on; IPC does not check it.
  answerers.set(topic, answerer as Answerer<unknown>);
}

/** Worker side: asks the primary; rejects after `timeoutMs` or with the primary's error. */
export function askPrimary<T>(topic: string, timeoutMs: number, payload?: Serializable): Promise<T> {
  return ask<T>(sendToPrimary, topic, timeoutMs, payload);
}

/**
 * Primary side: asks every connected worker (but `except`) at once and settles within `timeoutMs`
 * with the answers that arrived; `asked` says how many there should have been.
 */
export async function askWorkers<T>(
  topic: string,
  timeoutMs: number,
  { except, payload }: { except?: Worker; payload?: Serializable } = {},
): Promise<{ asked: number; answers: T[] }> {
  const workers = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && worker !== except && worker.isConnected());
  const settled = await Promise.allSettled(workers.map((worker) => ask<T>((message) => sendToWorker(worker, message), topic, timeoutMs, payload)));
  return { asked: workers.length, answers: settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : [])) };
}
