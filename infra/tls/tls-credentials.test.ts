import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createLocalCa, type LocalCa } from './local-ca.js';
import { readServerCredentials, serverCredentialsFrom, trustedCaFrom } from './tls-credentials.js';

// Compiled location: dist/infra/tls/ → the CLI in dist/stack/cli/.
const CLI = fileURLToPath(new URL('../../stack/cli/streamedge.js', import.meta.url));

let scratch: string;
let ca: LocalCa;
let other: LocalCa;
let notPem: string;
let keyText: string;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'streamedge-tls-credentials-'));
  ca = await createLocalCa(join(scratch, 'ca'));
  other = await createLocalCa(join(scratch, 'other'));
  notPem = join(scratch, 'not-pem.txt');
  await writeFile(notPem, 'hello\n');
  keyText = await readFile(ca.keyFile, 'utf8');
});

after(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('--tls-cert and --tls-key', () => {
  it('a matching, current pair is read with a summary of the certificate', () => {
    const credentials = serverCredentialsFrom({ 'tls-cert': ca.certFile, 'tls-key': ca.keyFile })!;
    assert.equal(credentials.certFile, ca.certFile);
    assert.match(credentials.summary.subject, /CN=localhost/);
    assert.match(credentials.summary.fingerprint256, /^[0-9A-F:]{95}$/);
    assert.equal(serverCredentialsFrom({}), undefined, 'no flags, no TLS');
  });

  it('each bad input is an error naming the flag at fault, never quoting the key', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ 'tls-cert': ca.certFile }, /^--tls-key: required with --tls-cert$/],
      [{ 'tls-key': ca.keyFile }, /^--tls-cert: required with --tls-key$/],
      [{ 'tls-cert': join(scratch, 'missing.pem'), 'tls-key': ca.keyFile }, /^--tls-cert: cannot read .*missing\.pem: ENOENT$/],
      [{ 'tls-cert': ca.certFile, 'tls-key': join(scratch, 'missing-key.pem') }, /^--tls-key: cannot read .*missing-key\.pem: ENOENT$/],
      [{ 'tls-cert': notPem, 'tls-key': ca.keyFile }, /^--tls-cert: .*not-pem\.txt holds no PEM certificate$/],
      [{ 'tls-cert': ca.certFile, 'tls-key': notPem }, /^--tls-key: .*not-pem\.txt holds no usable PEM private key/],
      [{ 'tls-cert': ca.certFile, 'tls-key': other.keyFile }, /^--tls-key: .* is not the private key of the certificate in /],
      [{ 'tls-cert': ca.keyFile, 'tls-key': ca.keyFile }, /^--tls-cert: .* holds no PEM certificate$/],
    ];
    for (const [flags, expected] of cases) {
      assert.throws(() => serverCredentialsFrom(flags), (error: Error) => {
        assert.match(error.message, expected);
        assert.ok(!error.message.includes(keyText.split('\n')[1]!), 'the key is not quoted');
        return true;
      });
    }
  });

  it('an expired certificate, or one not valid yet, names --tls-cert', () => {
    const tenYears = 10 * 365 * 86_400_000;
    assert.throws(() => readServerCredentials(ca.certFile, ca.keyFile, Date.now() + tenYears), /--tls-cert: .* expired on /);
    assert.throws(() => readServerCredentials(ca.certFile, ca.keyFile, Date.now() - tenYears), /--tls-cert: .* is not valid before /);
  });

  it('--tls-ca must hold a PEM certificate', () => {
    assert.match(trustedCaFrom({ 'tls-ca': ca.caCertFile })!, /BEGIN CERTIFICATE/);
    assert.throws(() => trustedCaFrom({ 'tls-ca': notPem }), /--tls-ca: .* holds no PEM certificate$/);
    assert.throws(() => trustedCaFrom({ 'tls-ca': join(scratch, 'nope.pem') }), /--tls-ca: cannot read /);
  });
});

describe('start-up of each server with a bad pair', () => {
  const run = async (args: readonly string[]): Promise<{ code: number; stderr: string }> => {
    try {
      await promisify(execFile)(process.execPath, [CLI, ...args], { timeout: 20_000 });
      return { code: 0, stderr: '' };
    } catch (error) {
      const failed = error as { code: number; stderr: string };
      return { code: failed.code, stderr: failed.stderr };
    }
  };

  it('edge, balancer and origin stop at start-up naming the option', async () => {
    const commands: [string, string[]][] = [
      ['edge', ['--port', '0', '--origin', 'https://127.0.0.1:1', '--workers', '1']],
      ['balancer', ['--port', '0', '--edge', 'https://127.0.0.1:1;id=e1;region=r;lat=0;lon=0']],
      ['origin', ['--port', '0', '--content', scratch]],
    ];
    for (const [command, base] of commands) {
      const missingKey = await run([command, ...base, '--tls-cert', ca.certFile, '--tls-key', join(scratch, 'absent-key.pem')]);
      assert.notEqual(missingKey.code, 0, `${command} exits`);
      assert.match(missingKey.stderr, /--tls-key: cannot read .*absent-key\.pem: ENOENT/, `${command}: ${missingKey.stderr}`);
      const mismatch = await run([command, ...base, '--tls-cert', ca.certFile, '--tls-key', other.keyFile]);
      assert.notEqual(mismatch.code, 0);
      assert.match(mismatch.stderr, /--tls-key: .* is not the private key of the certificate/, `${command}: ${mismatch.stderr}`);
      assert.ok(!mismatch.stderr.includes((await readFile(other.keyFile, 'utf8')).split('\n')[1]!), 'the key is not printed');
      const badCert = await run([command, ...base, '--tls-cert', notPem, '--tls-key', ca.keyFile]);
      assert.match(badCert.stderr, /--tls-cert: .* holds no PEM certificate/, `${command}: ${badCert.stderr}`);
    }
    const httpUrl = await run(['edge', '--port', '0', '--origin', 'https://127.0.0.1:1', '--workers', '1', '--tls-cert', ca.certFile, '--tls-key', ca.keyFile, '--url', 'http://edge.example:8081']);
    assert.match(httpUrl.stderr, /--url: must be an https URL with --tls-cert/);
  });
});
