// Test fixture: a "runner" that starts a long-lived child under an orphan guard, prints the child's
// pid, and waits to be killed; the test SIGKILLs it and expects the guard to stop the child.
import { spawn } from 'node:child_process';
import { startOrphanGuard } from '../orphan-guard.js';

const guard = startOrphanGuard();
const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
guard.watch(child.pid);
console.log(JSON.stringify({ childPid: child.pid }));
setInterval(() => {}, 1000);
