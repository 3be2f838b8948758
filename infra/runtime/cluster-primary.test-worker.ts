// A worker for cluster-primary.test: listens on the shared port and exits when told to close, unless
// TEST_WORKER_BEHAVIOUR says to fail before listening ('fail') or to ignore being told ('stubborn').
import { createServer } from 'node:http';

const behaviour = process.env.TEST_WORKER_BEHAVIOUR ?? 'serve';
if (behaviour === 'fail') process.exit(3);
createServer((_req, res) => res.end(String(process.pid))).listen(0, '127.0.0.1');
process.on('message', (message) => {
  if (message === 'close' && behaviour !== 'stubborn') process.exit(0);
});
process.on('disconnect', () => process.exit(0));
