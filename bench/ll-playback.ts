// `npm run bench:ll-playback`: Low-Latency HLS watched for two minutes in a real Chromium through
// the local stack, then the serving edge SIGKILLed: issue 13's targets judged over the long watch
// that `npm test` (player/test/low-latency-playback.test.ts) holds for 25 s only.
import { parseCommandOptions } from '../infra/runtime/command-options.js';
import { closeLiveViewing } from '../player/test/live-viewing.js';
import { killServingEdge, LOW_LATENCY_TARGETS, startLowLatencyViewing, watchLowLatency, type LowLatencyViewing } from '../player/test/low-latency-watch.js';
import { runBenchmark, TARGET_MISSED_EXIT_CODE } from './bench-runner.js';
import { atMost, publishReport, type TargetCheck } from './report.js';

const OPTIONS = {
  watch: { kind: 'duration', default: '120s', min: 10_000, max: 3_600_000, description: 'how long latency and stalls are watched once hls.js settled on its target latency' },
} as const;

const SUMMARY = 'Low-Latency HLS in headless Chromium through the local stack: latency behind live and stalls over --watch, then the stall when the serving edge is SIGKILLed. Exit code 3 when a target is missed.';

await runBenchmark('ll-playback', async (resources) => {
  const options = parseCommandOptions('bench:ll-playback', SUMMARY, OPTIONS, process.argv.slice(2));
  const seconds = Math.round(options.watch / 1000);
  const viewing: LowLatencyViewing = {};
  resources.defer(() => closeLiveViewing(viewing));
  console.log(`ll-playback: starting the stack (live channel in --low-latency) and Chromium, then watching ${seconds} s`);
  const { stack, player } = await startLowLatencyViewing(viewing);
  const watch = await watchLowLatency(player, seconds);
  const failover = await killServingEdge(stack, player);
  const { maxLatencyS, maxStalls, maxFailoverStallMs } = LOW_LATENCY_TARGETS;
  const targets: TargetCheck[] = [
    atMost(`median latency behind live over ${seconds} s (s)`, watch.latencyS.median, maxLatencyS),
    atMost(`stalls over ${seconds} s`, watch.stalls, maxStalls),
    atMost('stall after SIGKILL of the serving edge (ms)', Math.round(failover.stallMs), maxFailoverStallMs),
    atMost('fatal player errors and page problems', watch.fatal.length + watch.problems.length + failover.fatal.length, 0),
    // Parts are what makes it low latency: a playlist without them would meet nothing of issue 13.
    atMost('watches where the playlist listed no parts', watch.lowLatency && watch.overlay === 'yes (parts)' ? 0 : 1, 0),
  ];
  const report = {
    benchmark: 'll-playback',
    settings: { watchSeconds: seconds, targets: LOW_LATENCY_TARGETS },
    tables: [
      {
        title: `LL-HLS in Chromium (hls.js lowLatencyMode), sampled once a second over ${seconds} s`,
        columns: ['latency median s', 'p95 s', 'max s', 'hls.js target s', 'stalls', 'stalled ms', 'played s'],
        rows: [[watch.latencyS.median, watch.latencyS.p95, watch.latencyS.max ?? '', watch.targetLatencyS ?? '', watch.stalls, Math.round(watch.stalledMs), watch.played]],
      },
      {
        title: 'SIGKILL of the serving edge, then 6 s of playback after the move',
        columns: ['killed', 'moved to', 'stall ms', 'stalls', 'latency after s'],
        rows: [[failover.killed, failover.movedTo ?? '', Math.round(failover.stallMs), failover.stalls, failover.latencyAfterS ?? '']],
      },
    ],
    targets,
    notes: [...watch.fatal, ...watch.problems, ...failover.fatal].map((problem) => `problem: ${problem}`),
  };
  await publishReport(report);
  if (targets.some((check) => !check.met)) process.exitCode = TARGET_MISSED_EXIT_CODE;
});
