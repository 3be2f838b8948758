import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPrefixTable, parseIpAddress, parseIpPrefix, prefixContains } from './ip-prefix-table.js';

describe('parseIpAddress', () => {
  const cases: [string, 4 | 6 | undefined, bigint?][] = [
    ['127.0.0.1', 4, 0x7f000001n],
    ['::ffff:127.0.1.9', 4, 0x7f000109n],
    ['::FFFF:10.0.0.1', 4, 0x0a000001n],
    ['255.255.255.255', 4, 0xffffffffn],
    ['0.0.0.0', 4, 0n],
    ['::1', 6, 1n],
    ['2001:db8::1', 6, (0x20010db8n << 96n) | 1n],
    ['2001:db8:0:0:0:0:0:2', 6, (0x20010db8n << 96n) | 2n],
    ['::fffe:0:1', 6],
    ['256.0.0.1', undefined],
    ['1.2.3', undefined],
    ['01.2.3.4', undefined],
    ['1.2.3.4.', undefined],
    ['1..2.3', undefined],
    ['1.2.3.1000', undefined],
    ['::ffff:01.2.3.4', undefined],
    ['::ffff:1.2.3', undefined],
    [' 1.2.3.4', undefined],
    ['fe80::1%eth0', undefined],
    ['2001:db8:::1', undefined],
    ['not-an-ip', undefined],
    ['', undefined],
  ];
  for (const [text, family, value] of cases) {
    it(`${JSON.stringify(text)} → ${family ?? 'invalid'}`, () => {
      const parsed = parseIpAddress(text);
      assert.equal(parsed?.family, family);
      if (value !== undefined) assert.equal(parsed?.value, value);
    });
  }
});

describe('parseIpPrefix', () => {
  it('clears host bits and accepts bare addresses as host prefixes', () => {
    assert.equal(parseIpPrefix('10.1.2.3/8').network, 0x0a000000n);
    assert.equal(parseIpPrefix('10.1.2.3').bits, 32);
    assert.equal(parseIpPrefix('2001:db8::/32').bits, 32);
    assert.equal(parseIpPrefix('::/0').bits, 0);
  });
  for (const bad of ['10.0.0.0/33', '2001:db8::/129', '10.0.0.0/', '10.0.0.0/-1', 'x/8', '::ffff:10.0.0.0/104']) {
    it(`rejects ${bad}`, () => assert.throws(() => parseIpPrefix(bad)));
  }
  it('matches only its own family', () => {
    const v4 = parseIpPrefix('0.0.0.0/0');
    assert.equal(prefixContains(v4, parseIpAddress('1.2.3.4')!), true);
    assert.equal(prefixContains(v4, parseIpAddress('::1')!), false);
  });
});

describe('createPrefixTable', () => {
  const table = createPrefixTable([
    { prefix: parseIpPrefix('127.0.0.0/8'), value: 'wide' },
    { prefix: parseIpPrefix('127.0.2.0/24'), value: 'narrow' },
    { prefix: parseIpPrefix('2001:db8::/32'), value: 'v6' },
  ]);
  const cases: [string, string | undefined][] = [
    ['127.0.2.7', 'narrow'],
    ['127.0.1.7', 'wide'],
    ['::ffff:127.0.2.1', 'narrow'],
    ['2001:db8:1::5', 'v6'],
    ['2001:db9::5', undefined],
    ['10.0.0.1', undefined],
  ];
  for (const [address, expected] of cases) {
    it(`${address} → ${expected ?? 'no match'} (longest prefix wins)`, () => assert.equal(table.lookup(parseIpAddress(address)!), expected));
  }
});
