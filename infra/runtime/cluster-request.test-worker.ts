// A worker for cluster-request.test: answers the primary's asks, some by asking the primary in turn.
import cluster from 'node:cluster';
import { answerAsks, askPrimary } from './cluster-request.js';

answerAsks<{ word: string }>('test:echo', (_primary, payload) => ({ worker: cluster.worker!.id, payload }));
answerAsks<string>('test:relay', (_primary, word) => askPrimary<string>('test:shout', 1_000, word));
answerAsks('test:relay-unanswered', () => askPrimary<string>('test:nobody', 1_000).catch((error: Error) => error.message));
answerAsks('test:silent', () => new Promise<string>(() => {}));
process.on('disconnect', () => process.exit(0));
process.send!('ready');
