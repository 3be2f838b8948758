import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { consulConnectionFrom } from './consul-connection.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('consulConnectionFrom', () => {
  let dir: string;
  const file = (name: string): string => join(dir, name);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'streamedge-consul-connection-'));
    await writeFile(file('token'), 'b2a4f9e0-1111-2222-3333-444455556666\n');
    await writeFile(file('empty'), '\n');
    await writeFile(file('two-lines'), 'abc\ndef\n');
    await writeFile(file('ca.pem'), PEM);
    await writeFile(file('not-pem'), 'hello');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('is undefined without --consul, and a stray Consul flag is refused', () => {
    assert.equal(consulConnectionFrom({}, {}), undefined);
    assert.throws(() => consulConnectionFrom({ 'consul-token-file': file('token') }, {}), /--consul-token-file: needs --consul/);
  });

  it('reads the token from --consul-token-file, else CONSUL_HTTP_TOKEN_FILE, else CONSUL_HTTP_TOKEN', () => {
    const url = 'http://127.0.0.1:8500';
    assert.deepEqual(consulConnectionFrom({ consul: url }, {}), { url });
    assert.deepEqual(consulConnectionFrom({ consul: url, 'consul-token-file': file('token') }, { CONSUL_HTTP_TOKEN: 'other' }), {
      url,
      token: 'b2a4f9e0-1111-2222-3333-444455556666',
    });
    assert.equal(consulConnectionFrom({ consul: url }, { CONSUL_HTTP_TOKEN_FILE: file('token') })?.token, 'b2a4f9e0-1111-2222-3333-444455556666');
    assert.equal(consulConnectionFrom({ consul: url }, { CONSUL_HTTP_TOKEN: ' from-env ' })?.token, 'from-env');
  });

  it('refuses an unreadable, empty or multi-line token, naming where it came from', () => {
    const url = 'http://127.0.0.1:8500';
    assert.throws(() => consulConnectionFrom({ consul: url, 'consul-token-file': file('missing') }, {}), /--consul-token-file: cannot read .*ENOENT/);
    assert.throws(() => consulConnectionFrom({ consul: url, 'consul-token-file': file('empty') }, {}), /--consul-token-file: the Consul token is empty/);
    assert.throws(() => consulConnectionFrom({ consul: url, 'consul-token-file': file('two-lines') }, {}), /one line of printable characters/);
    assert.throws(() => consulConnectionFrom({ consul: url }, { CONSUL_HTTP_TOKEN: 'x'.repeat(600) }), /CONSUL_HTTP_TOKEN: the Consul token is longer than 512/);
  });

  it('takes a CA and a client certificate for an https agent only, and the certificate with its key', () => {
    const https = 'https://consul.example:8501';
    assert.deepEqual(consulConnectionFrom({ consul: https, 'consul-ca': file('ca.pem'), 'consul-cert': file('ca.pem'), 'consul-key': file('ca.pem') }, {})?.tls, {
      ca: PEM,
      cert: PEM,
      key: PEM,
    });
    assert.deepEqual(consulConnectionFrom({ consul: https }, { CONSUL_CACERT: file('ca.pem') })?.tls, { ca: PEM });
    assert.throws(() => consulConnectionFrom({ consul: 'http://127.0.0.1:8500', 'consul-ca': file('ca.pem') }, {}), /--consul-ca: is for an https Consul agent/);
    assert.throws(() => consulConnectionFrom({ consul: https, 'consul-cert': file('ca.pem') }, {}), /--consul-cert: a client certificate and its key go together/);
    assert.throws(() => consulConnectionFrom({ consul: https, 'consul-ca': file('not-pem') }, {}), /--consul-ca: .* is not a PEM file/);
  });
});
