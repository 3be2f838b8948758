// The HTTP fuzzer from the command line, for runs longer than `npm test`'s and with any seed:
// a live origin, edge and (for --target balancer) balancer, malformed and adversarial requests,
// then the checks after (alive, /healthz, cached bytes intact, RSS and fds back near baseline).
// Run: npm run fuzz -- --seed 7 --requests 100000 --target both
import { parseCommandOptions } from '../infra/runtime/command-options.js';
import { summarizeFindings } from '../infra/testing/http-fuzzer.js';
import { fuzzLive } from '../stack/test/fuzz-stand.js';
import { runBenchmark } from './bench-runner.js';
import { publishReport } from './report.js';

const OPTIONS = {
  seed: { kind: 'integer', description: 'generator seed (the same seed sends the same cases)', default: 1, min: 0, max: 2 ** 32 - 1 },
  requests: { kind: 'integer', description: 'requests to send per target', default: 10_000, min: 1, max: 100_000_000 },
  concurrency: { kind: 'integer', description: 'connections at once', default: 32, min: 1, max: 400 },
  target: { kind: 'string', choices: ['edge', 'balancer', 'both'], description: 'the live service fuzzed', default: 'both' },
  'edge-workers': { kind: 'integer', description: 'edge --workers', default: 1, min: 1, max: 16 },
} as const;

await runBenchmark('http-fuzz', async (resources) => {
  const options = parseCommandOptions('fuzz', 'Malformed and adversarial HTTP against a live edge and balancer.', OPTIONS, process.argv.slice(2));
  const targets = options.target === 'both' ? (['edge', 'balancer'] as const) : [options.target as 'edge' | 'balancer'];
  const rows: (string | number)[][] = [];
  let findings = 0;
  const notes: string[] = [];
  for (const target of targets) {
    console.log(`fuzzing the ${target}: seed ${options.seed}, ${options.requests} requests, ${options.concurrency} at once`);
    const result = await fuzzLive({
      target, seed: options.seed, requests: options.requests, concurrency: options.concurrency, edgeWorkers: options['edge-workers'],
      onStarted: (service) => resources.guard.watch(service.child.pid),
    });
    const { report, baseline, aftermath } = result;
    findings += report.findings.length + aftermath.problems.length;
    rows.push([
      target, report.requests, report.cases, report.responses, report.cleanCloses, report.findings.length, aftermath.problems.length,
      Math.round(report.elapsedMs / 1000), `${Math.round(baseline.rssBytes / 2 ** 20)} → ${Math.round(aftermath.after.rssBytes / 2 ** 20)}`, `${baseline.fds} → ${aftermath.after.fds}`,
    ]);
    if (report.findings.length > 0) notes.push(`${target} findings:\n${summarizeFindings(report.findings)}`);
    notes.push(...aftermath.problems.map((problem) => `${target} after the run: ${problem}`));
    console.log(`requests by family: ${JSON.stringify(report.byFamily)}\nstatuses: ${JSON.stringify(report.statuses)}`);
  }
  await publishReport({
    benchmark: 'http-fuzz',
    settings: options,
    tables: [{ title: 'HTTP fuzz', columns: ['target', 'requests', 'connections', 'responses', 'server closes', 'findings', 'after-run problems', 's', 'RSS MB', 'fds'], rows }],
    targets: [],
    notes: [
      'A finding is an invalid or wrong answer, a hang, a leak or a truncated response; after-run problems: dead process, /healthz, cached bytes, RSS or fds not back near baseline.',
      ...notes,
    ],
  });
  if (findings > 0) process.exitCode = 1;
});
