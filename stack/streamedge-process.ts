import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Compiled location: dist/stack/ → dist/stack/cli/streamedge.js
const CLI = fileURLToPath(new URL('./cli/streamedge.js', import.meta.url));

export interface StreamedgeProcess {
  /** The URL from the process's `listening` log line ('' for a command that serves nothing, e.g. `live`). */
  readonly url: string;
  readonly child: ChildProcess;
  /** Every stdout/stderr line so far, for assertions and failure messages. */
  readonly output: () => string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | NodeJS.Signals>;
  /** SIGTERM (orderly shutdown); SIGKILL after `graceMs` if still running. */
  stop(graceMs?: number): Promise<number | NodeJS.Signals>;
  kill(): Promise<number | NodeJS.Signals>;
}

export interface SpawnOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly startTimeoutMs?: number;
  /** Receives every stdout/stderr chunk (e.g. to write a long-running service's log file). */
  readonly onOutput?: (chunk: string) => void;
  /** Keep only the last this-many characters for output(), so a long-running process stays bounded. */
  readonly outputLimit?: number;
  /** The log message that means the process is up (default `listening`, which must carry a url). */
  readonly readyMessage?: string;
  /** Run inside this network namespace (`ip netns exec`, which becomes the process: same pid). */
  readonly netns?: string;
}

/**
 * Runs `streamedge <args>` as a real child process and waits for its structured
 * `{"msg":"listening","url":…}` log line, which every server command prints once it serves
 * (or for the `readyMessage` of a command that serves nothing).
 */
export async function spawnStreamedge(args: readonly string[], options: SpawnOptions = {}): Promise<StreamedgeProcess> {
  const command = options.netns === undefined ? [process.execPath, CLI] : ['ip', 'netns', 'exec', options.netns, process.execPath, CLI];
  const child = spawn(command[0]!, [...command.slice(1), ...args], {
    env: { ...process.env, STREAMEDGE_LOG_LEVEL: process.env.STREAMEDGE_LOG_LEVEL ?? 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const record = (chunk: Buffer): void => {
    const text = chunk.toString();
    options.onOutput?.(text);
    output += text;
    if (options.outputLimit !== undefined && output.length > options.outputLimit) output = output.slice(-options.outputLimit);
  };
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'SIGKILL')),
  );
  const readyMessage = options.readyMessage ?? 'listening';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`streamedge ${args.join(' ')} did not report ${readyMessage} within ${options.startTimeoutMs ?? 20_000} ms:\n${output}`));
    }, options.startTimeoutMs ?? 20_000);
    let pending = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      record(chunk);
      pending += chunk.toString();
      let newline: number;
      while ((newline = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        try {
          const record = JSON.parse(line) as { msg?: string; url?: string };
          if (record.msg === readyMessage && (record.url || readyMessage !== 'listening')) {
            clearTimeout(timer);
            resolve(record.url ?? '');
          }
        } catch {
          // not a JSON log line
        }
      }
    });
    child.stderr!.on('data', record);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`streamedge ${args.join(' ')} exited (${code}) before ${readyMessage === 'listening' ? 'listening' : `reporting ${readyMessage}`}:\n${output}`));
    });
  });

  const stop = (graceMs = 10_000): Promise<number | NodeJS.Signals> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      void exited.then(() => clearTimeout(timer));
    }
    return exited;
  };
  return {
    url,
    child,
    output: () => output,
    exited,
    stop,
    kill: () => {
      child.kill('SIGKILL');
      return exited;
    },
  };
}
