import { HelpRequested, OptionError } from '../infra/runtime/command-options.js';
import { startOrphanGuard, type OrphanGuard } from '../stack/orphan-guard.js';

/**
 * A benchmark that checks targets as pass/fail conditions (the soak) exits with this when one is
 * missed: it ran to the end and published its report, unlike an error (1) or a bad option (2).
 */
export const TARGET_MISSED_EXIT_CODE = 3;

export interface BenchResources {
  /** Registers a clean-up step; steps run in reverse order when the benchmark ends, fails or is interrupted. */
  defer(step: () => Promise<unknown>): void;
  /** Processes that must not outlive the benchmark, even if it is killed. */
  readonly guard: OrphanGuard;
}

/**
 * Runs one benchmark with its clean-up guaranteed: on success, on error, and on Ctrl-C. Exit code
 * 1 on error; a missed target is reported, not an error (figures on a shared machine are noisy).
 */
export async function runBenchmark(name: string, body: (resources: BenchResources) => Promise<void>): Promise<void> {
  const steps: (() => Promise<unknown>)[] = [];
  const guard = startOrphanGuard();
  let cleaning: Promise<void> | undefined;
  const cleanUp = (): Promise<void> =>
    (cleaning ??= (async () => {
      for (const step of steps.reverse()) await step().catch((error: unknown) => console.error(`${name}: clean-up step failed: ${String(error)}`));
      await guard.close();
    })());
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\n${name}: ${signal}, cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await body({ defer: (step) => steps.push(step), guard });
  } catch (error) {
    if (error instanceof HelpRequested) {
      console.log(error.usage.replace(/^Usage: streamedge (\S+)/, 'Usage: npm run $1 --'));
    } else if (error instanceof OptionError) {
      console.error(`${name}: ${error.message}`);
      process.exitCode = 2;
    } else {
      console.error(`${name} failed: ${(error as Error).stack ?? String(error)}`);
      process.exitCode = 1;
    }
  } finally {
    await cleanUp();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
