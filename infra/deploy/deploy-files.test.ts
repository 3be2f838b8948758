// The deploy files are only text until a machine runs them, so these checks keep them honest: every
// unit keeps its hardening, every environment file names exactly the flags its command has today
// (a flag renamed or removed fails here), the Node services keep their malloc setting, stop timeouts
// outlast the drain, and systemd and Consul accept the files.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, copyFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { obtainConsulBinary } from '../consul/consul-binary.js';
import { parseDuration } from '../runtime/command-options.js';
import { MMAP_THRESHOLD_BYTES } from '../runtime/malloc-tuning.js';

const run = promisify(execFile);
// Compiled location: dist/infra/deploy/ → the source files in infra/deploy/ and the built CLI.
const DEPLOY_DIR = fileURLToPath(new URL('../../../infra/deploy/', import.meta.url));
const CLI = fileURLToPath(new URL('../../stack/cli/streamedge.js', import.meta.url));
const LOGGER_SOURCE = fileURLToPath(new URL('../../../infra/runtime/logger.ts', import.meta.url));

/** Each streamedge unit (streamedge-<name>.service, env/<name>.env) and the command line it runs. */
const UNITS = [
  { name: 'origin', command: 'origin' },
  { name: 'edge', command: 'edge' },
  { name: 'shield', command: 'edge --tier shield' },
  { name: 'balancer', command: 'balancer' },
  { name: 'consul-targets', command: 'consul-targets' },
  { name: 'live', command: 'live' },
] as const;
/** Environment variables the services read that are not flags, each checked against its reader. */
const NON_FLAG_VARIABLES: Readonly<Record<string, string>> = { STREAMEDGE_LOG_LEVEL: LOGGER_SOURCE };
/** Flags whose value is a secret: only ever in a *-secrets.env file (a flag naming a file that holds one is not). */
const SECRET_FLAG = /^(?!.*_FILE$).*(?:TOKEN|SECRET|PASSWORD)/;

type Unit = Map<string, Map<string, string[]>>;

/** systemd's INI dialect: sections, repeatable keys, `#`/`;` comments. */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = new Map();
      unit.set(header[1]!, section);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(section && eq > 0, `unit line outside a section or without "=": ${line}`);
    const key = line.slice(0, eq);
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1)]);
  }
  return unit;
}

function serviceValue(unit: Unit, key: string): string | undefined {
  return unit.get('Service')?.get(key)?.at(-1);
}

/** `streamedge <command> --help` → env variable → default (as printed, or undefined). */
async function commandFlags(command: string): Promise<Map<string, string | undefined>> {
  const { stdout } = await run(process.execPath, [CLI, command, '--help']);
  const flags = new Map<string, string | undefined>();
  const lines = stdout.split('\n');
  lines.forEach((line, i) => {
    const env = /^\s+env (STREAMEDGE_[A-Z0-9_]+)$/.exec(line)?.[1];
    if (env) flags.set(env, /default: ([^;)]+)/.exec(lines[i - 1] ?? '')?.[1]);
  });
  assert.ok(flags.size > 3, `no flags found in streamedge ${command} --help:\n${stdout}`);
  return flags;
}

/** Every `STREAMEDGE_X=value` in an env file, commented out (`#STREAMEDGE_X=default`) or set. */
function envAssignments(text: string): { name: string; value: string; set: boolean }[] {
  return [...text.matchAll(/^(#?)(STREAMEDGE_[A-Z0-9_]+)=(.*)$/gm)].map((match) => ({ name: match[2]!, value: match[3]!, set: match[1] === '' }));
}

async function unitFiles(): Promise<string[]> {
  return (await readdir(join(DEPLOY_DIR, 'systemd'))).filter((name) => name.endsWith('.service')).sort();
}

const readDeploy = (...parts: string[]): Promise<string> => readFile(join(DEPLOY_DIR, ...parts), 'utf8');

test('every unit runs as a dedicated user with the hardening and restart policy the guide promises', async () => {
  const names = await unitFiles();
  assert.deepEqual(names, ['consul.service', 'streamedge-balancer.service', 'streamedge-consul-targets.service', 'streamedge-edge.service', 'streamedge-live.service', 'streamedge-origin.service', 'streamedge-shield.service']);
  const required: Readonly<Record<string, RegExp>> = {
    User: /^(streamedge|consul)$/,
    NoNewPrivileges: /^yes$/,
    ProtectSystem: /^strict$/,
    ProtectHome: /^yes$/,
    PrivateTmp: /^yes$/,
    PrivateDevices: /^yes$/,
    // Empty: no capability at all (a listener below 1024 would name CAP_NET_BIND_SERVICE).
    CapabilityBoundingSet: /^(|CAP_NET_BIND_SERVICE)$/,
    RestrictAddressFamilies: /^AF_INET AF_INET6 AF_UNIX/,
    SystemCallFilter: /^@system-service$/,
    Restart: /^on-failure$/,
    KillSignal: /^SIGTERM$/,
    TimeoutStopSec: /^\d+s$/,
  };
  for (const name of names) {
    const unit = parseUnit(await readDeploy('systemd', name));
    for (const [key, pattern] of Object.entries(required)) {
      const value = serviceValue(unit, key);
      assert.ok(value !== undefined && pattern.test(value), `${name}: ${key}=${value ?? '(missing)'} should match ${pattern}`);
    }
    assert.ok(unit.get('Install')?.get('WantedBy')?.includes('multi-user.target'), `${name}: WantedBy=multi-user.target`);
    // Secrets come from files systemd reads, never from the command line.
    assert.doesNotMatch(serviceValue(unit, 'ExecStart') ?? '', /token|secret|password|encrypt/i, `${name}: a secret on the command line`);
  }
});

test('each service unit runs its own command with its own environment file', async () => {
  for (const { name, command } of UNITS) {
    const unit = parseUnit(await readDeploy('systemd', `streamedge-${name}.service`));
    assert.match(serviceValue(unit, 'ExecStart') ?? '', new RegExp(`/dist/stack/cli/streamedge\\.js ${command}$`));
    const envFiles = unit.get('Service')?.get('EnvironmentFile') ?? [];
    assert.equal(envFiles[0], `/etc/streamedge/${name}.env`);
    await access(join(DEPLOY_DIR, 'env', `${name}.env`));
  }
});

test('the environment files name every flag of their command and nothing that is not one', async () => {
  for (const { name: unitName, command: commandLine } of UNITS) {
    const command = commandLine.split(' ')[0]!;
    const flags = await commandFlags(command);
    const plain = envAssignments(await readDeploy('env', `${unitName}.env`));
    const secretsText = await readDeploy('env', `${unitName}-secrets.env.example`).catch(() => '');
    const secrets = envAssignments(secretsText);
    for (const { name } of [...plain, ...secrets]) {
      const reader = NON_FLAG_VARIABLES[name];
      if (reader) assert.match(await readFile(reader, 'utf8'), new RegExp(name), `${name} is no longer read by ${reader}`);
      else assert.ok(flags.has(name), `${unitName}.env: ${name} is not a flag of streamedge ${command} (see its --help)`);
    }
    const named = new Set([...plain, ...secrets].map((entry) => entry.name));
    const missing = [...flags.keys()].filter((name) => !named.has(name));
    assert.deepEqual(missing, [], `${unitName}.env does not mention these flags of streamedge ${command}`);
    for (const entry of plain) {
      assert.ok(!(entry.set && SECRET_FLAG.test(entry.name)), `${unitName}.env sets the secret ${entry.name}: it belongs in ${unitName}-secrets.env`);
    }
    for (const entry of secrets) assert.match(entry.name, SECRET_FLAG, `${unitName}-secrets.env.example: ${entry.name} is no secret`);
  }
});

test('the Node services run with glibc\'s mmap threshold fixed as the local stack runs them, overridable from their environment file', async () => {
  for (const unitName of ['origin', 'edge', 'shield', 'balancer']) {
    const service = parseUnit(await readDeploy('systemd', `streamedge-${unitName}.service`)).get('Service')!;
    assert.deepEqual(service.get('Environment'), [`MALLOC_MMAP_THRESHOLD_=${MMAP_THRESHOLD_BYTES}`], `streamedge-${unitName}.service`);
    assert.match(await readDeploy('env', `${unitName}.env`), new RegExp(`^#MALLOC_MMAP_THRESHOLD_=${MMAP_THRESHOLD_BYTES}$`, 'm'), `${unitName}.env`);
  }
});

test('stop timeouts outlast the drain: edge and shield delay + in-flight timeout, origin shutdown grace', async () => {
  const valueOf = async (unitName: string, name: string): Promise<number> => {
    const command = UNITS.find((unit) => unit.name === unitName)!.command.split(' ')[0]!;
    const assigned = envAssignments(await readDeploy('env', `${unitName}.env`)).find((entry) => entry.name === name && entry.set);
    const text = assigned?.value ?? (await commandFlags(command)).get(name);
    assert.ok(text, `no value or default for ${name}`);
    return parseDuration(text);
  };
  const stopTimeout = async (unitName: string): Promise<number> =>
    parseDuration(serviceValue(parseUnit(await readDeploy('systemd', `streamedge-${unitName}.service`)), 'TimeoutStopSec')!);
  for (const unitName of ['edge', 'shield']) {
    const drain = (await valueOf(unitName, 'STREAMEDGE_DRAIN_DELAY')) + (await valueOf(unitName, 'STREAMEDGE_DRAIN_TIMEOUT'));
    assert.ok((await stopTimeout(unitName)) > drain, `${unitName} TimeoutStopSec must exceed drain delay + timeout (${drain} ms)`);
  }
  const originGrace = await valueOf('origin', 'STREAMEDGE_SHUTDOWN_GRACE');
  assert.ok((await stopTimeout('origin')) > originGrace, `origin TimeoutStopSec must exceed --shutdown-grace (${originGrace} ms)`);
});

test('systemd-analyze verify accepts every unit and rates its exposure at 2 or below', async (t) => {
  const analyze = await run('systemd-analyze', ['--version']).then(() => true, () => false);
  if (!analyze) {
    t.skip('systemd-analyze is not installed');
    return;
  }
  // verify insists the executable exists; on a build machine node or consul may live elsewhere.
  const dir = await mkdtemp(join(tmpdir(), 'streamedge-units-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const name of await unitFiles()) {
    let text = await readDeploy('systemd', name);
    const executable = /^ExecStart=(\S+)/m.exec(text)![1]!;
    if (!(await access(executable).then(() => true, () => false))) text = text.replace(`ExecStart=${executable}`, `ExecStart=${process.execPath}`);
    await writeFile(join(dir, name), text);
  }
  const units = (await unitFiles()).map((name) => join(dir, name));
  const { stderr } = await run('systemd-analyze', ['verify', ...units]).catch((error: { stderr?: string; message: string }) => {
    assert.fail(`systemd-analyze verify failed:\n${error.stderr ?? error.message}`);
  });
  assert.equal(stderr.trim(), '', `systemd-analyze verify warned:\n${stderr}`);
  // The hardening as systemd scores it (0 = locked down, 10 = exposed): "OK" is below 4.
  for (const unit of units) {
    const { stdout } = await run('systemd-analyze', ['security', '--offline=true', '--no-pager', unit]);
    const exposure = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(stdout)?.[1]);
    assert.ok(exposure <= 2, `${unit}: systemd-analyze security exposure ${exposure}, above 2`);
  }
});

test('consul validate accepts the server and client agent configurations', { timeout: 60_000 }, async (t) => {
  const consul = await obtainConsulBinary();
  const dir = await mkdtemp(join(tmpdir(), 'streamedge-consul-config-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const key = (await run(consul, ['keygen'])).stdout.trim();
  const encrypt = (await readDeploy('consul', 'encrypt.hcl.example')).replace('REPLACE-WITH-consul-keygen-OUTPUT', key);
  for (const mode of ['server', 'client']) {
    await rm(join(dir, 'server.hcl'), { force: true });
    await rm(join(dir, 'client.hcl'), { force: true });
    await copyFile(join(DEPLOY_DIR, 'consul', `${mode}.hcl`), join(dir, `${mode}.hcl`));
    await writeFile(join(dir, 'encrypt.hcl'), encrypt);
    const { stdout } = await run(consul, ['validate', dir]);
    assert.match(stdout, /Configuration is valid/, `${mode}.hcl: ${stdout}`);
  }
  assert.match(await readDeploy('consul', 'server.hcl'), /^bootstrap_expect = 3$/m);
});
