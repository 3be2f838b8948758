// Keeps the stack's live channel encoding: `streamedge live` runs as a child process and is
// started again when it dies (a crash, ffmpeg failing, a kill), with a growing pause between quick
// failures. A clean exit (0) only follows a shutdown signal, so it is never restarted: Ctrl-C
// reaches the encoder along with the rest of the stack.
import { spawnStreamedge, type StreamedgeProcess } from './streamedge-process.js';

/** The one live channel a stack runs: `streamedge live --id <id> --input <input> <args…>`. */
export interface StackLiveChannel {
  readonly id: string;
  readonly input: string;
  /** Further `streamedge live` flags (renditions, window, preset, title). */
  readonly args?: readonly string[];
}

/** The encoder's arguments for a channel written into the catalog the stack's origins serve, its /metrics on 127.0.0.1:`metricsPort`. */
export function liveChannelArgs(channel: StackLiveChannel, contentDir: string, metricsPort: number): string[] {
  return ['--id', channel.id, '--input', channel.input, '--content', contentDir, '--metrics-port', String(metricsPort), ...(channel.args ?? [])];
}

export interface LiveEncoderSupervisorOptions {
  /** Arguments after `streamedge live`. */
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly startTimeoutMs?: number;
  readonly outputLimit?: number;
  readonly onOutput?: (chunk: string) => void;
  /** Each new encoder process (to watch its pid), and the ffmpeg it runs. */
  readonly onStarted?: (encoder: StreamedgeProcess, ffmpegPid: number | undefined) => void;
  readonly onProgress?: (message: string) => void;
  /** Pause before the first restart (default 1 s); doubles after each quick failure, up to 30 s. */
  readonly restartDelayMs?: number;
}

export interface LiveEncoderSupervisor {
  /** The running encoder process, if any. */
  current(): StreamedgeProcess | undefined;
  /** How many times the encoder was started again after dying. */
  restarts(): number;
  /** Stops the encoder (SIGTERM, SIGKILL after `graceMs`) and restarts no more. */
  stop(graceMs?: number): Promise<void>;
}

/** A run that lasted this long was healthy: the next failure starts the pauses from the beginning. */
const HEALTHY_RUN_MS = 60_000;

export function ffmpegPidOf(output: string): number | undefined {
  for (const line of output.split('\n')) {
    if (!line.includes('"msg":"encoding"')) continue;
    try {
      const pid = (JSON.parse(line) as { ffmpegPid?: unknown }).ffmpegPid;
      if (typeof pid === 'number') return pid;
    } catch {
      // not a whole JSON line
    }
  }
  return undefined;
}

/** Starts the first encoder and resolves once it publishes; a first start that fails rejects. */
export async function superviseLiveEncoder(options: LiveEncoderSupervisorOptions): Promise<LiveEncoderSupervisor> {
  const progress = options.onProgress ?? (() => {});
  const firstDelay = options.restartDelayMs ?? 1000;
  let current: StreamedgeProcess | undefined;
  let stopping = false;
  let restarts = 0;
  let delay = firstDelay;
  let pendingRestart: NodeJS.Timeout | undefined;
  let starting: Promise<unknown> | undefined;

  const start = async (): Promise<StreamedgeProcess> => {
    const encoder = await spawnStreamedge(['live', ...options.args], {
      env: options.env,
      startTimeoutMs: options.startTimeoutMs,
      outputLimit: options.outputLimit,
      onOutput: options.onOutput,
      readyMessage: 'publishing',
    });
    current = encoder;
    options.onStarted?.(encoder, ffmpegPidOf(encoder.output()));
    const startedAt = Date.now();
    void encoder.exited.then((code) => {
      if (stopping || code === 0) return;
      if (Date.now() - startedAt > HEALTHY_RUN_MS) delay = firstDelay;
      progress(`live encoder exited (${code}); starting it again in ${delay} ms`);
      pendingRestart = setTimeout(() => void restart(), delay);
      delay = Math.min(delay * 2, 30_000);
    });
    return encoder;
  };

  const restart = async (): Promise<void> => {
    pendingRestart = undefined;
    if (stopping) return;
    try {
      starting = start();
      await starting;
      restarts++;
      progress(`live encoder publishing again (restart ${restarts})`);
    } catch (error) {
      const message = (error as Error).message.split('\n')[0] ?? '';
      progress(`live encoder failed to start (${message}); trying again in ${delay} ms`);
      pendingRestart = setTimeout(() => void restart(), delay);
      delay = Math.min(delay * 2, 30_000);
    }
  };

  await start();
  return {
    current: () => current,
    restarts: () => restarts,
    async stop(graceMs = 10_000) {
      stopping = true;
      clearTimeout(pendingRestart);
      // A restart under way finishes first, so its process is the one stopped.
      await starting?.catch(() => {});
      await current?.stop(graceMs);
    },
  };
}
