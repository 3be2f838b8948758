import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createUrlTokenVerifier, normalizeScopePath, parseTokenKey, signUrlToken, withoutTokenParams, type TokenCheck, type UrlTokenKey } from './url-token.js';

const OLD: UrlTokenKey = parseTokenKey('k1:old-secret-0123456789abcdef');
const NEW: UrlTokenKey = parseTokenKey('k2:new-secret-0123456789abcdef\n');
const NOW = 1_700_000_000;
const PREFIX = '/vod/demo-ts/';

const token = (claims: { prefix?: string; expires?: number; clientAddress?: string } = {}, key = NEW): string =>
  signUrlToken(key, { prefix: claims.prefix ?? PREFIX, expires: claims.expires ?? NOW + 3600, clientAddress: claims.clientAddress });

describe('url tokens: check', () => {
  const verifier = createUrlTokenVerifier([OLD, NEW]);
  const valid = token();
  const forgedMac = valid.replace(/st=([^&]{5})/, 'st=AAAAA');
  const cases: [string, string, string | undefined, TokenCheck['ok'] | string][] = [
    ['valid master', `/vod/demo-ts/master.m3u8?${valid}`, '127.0.0.1', true],
    ['valid segment two levels down', `/vod/demo-ts/720p/seg-00001.ts?${valid}`, '127.0.0.1', true],
    ['valid, other parameters beside it', `/vod/demo-ts/720p/index.m3u8?_HLS_msn=3&${valid}`, undefined, true],
    ['signed by the key being rotated out', `/vod/demo-ts/master.m3u8?${token({}, OLD)}`, undefined, true],
    ['no query', '/vod/demo-ts/master.m3u8', undefined, 'token missing'],
    ['query without st', '/vod/demo-ts/master.m3u8?region=eu', undefined, 'token missing'],
    ['expired', `/vod/demo-ts/master.m3u8?${token({ expires: NOW - 1 })}`, undefined, 'token expired'],
    ['forged MAC', `/vod/demo-ts/master.m3u8?${forgedMac}`, undefined, 'token invalid'],
    ['expiry pushed out', `/vod/demo-ts/master.m3u8?${valid.replace(/exp=\d+/, `exp=${NOW + 999_999}`)}`, undefined, 'token invalid'],
    ['prefix widened', `/vod/other/master.m3u8?${valid.replace(/pfx=[^&]+/, 'pfx=%2Fvod%2F')}`, undefined, 'token invalid'],
    ['unknown kid', `/vod/demo-ts/master.m3u8?${valid.replace('kid=k2', 'kid=k9')}`, undefined, 'token invalid'],
    ['other kid names the wrong secret', `/vod/demo-ts/master.m3u8?${valid.replace('kid=k2', 'kid=k1')}`, undefined, 'token invalid'],
    ['repeated st', `/vod/demo-ts/master.m3u8?${valid}&st=${'A'.repeat(43)}`, undefined, 'token invalid'],
    ['another title', `/vod/demo-fmp4/master.m3u8?${valid}`, undefined, 'path outside token scope'],
    ['prefix of the name only', `/vod/demo-ts-2/master.m3u8?${valid}`, undefined, 'path outside token scope'],
    ['dot-dot out', `/vod/demo-ts/../demo-fmp4/master.m3u8?${valid}`, undefined, 'path outside token scope'],
    ['encoded dot-dot out', `/vod/demo-ts/%2e%2e/demo-fmp4/master.m3u8?${valid}`, undefined, 'path outside token scope'],
    ['encoded slash', `/vod/demo-ts%2f..%2fdemo-fmp4/master.m3u8?${valid}`, undefined, 'path outside token scope'],
    ['double-encoded dot-dot', `/vod/demo-ts/%252e%252e/x.ts?${valid}`, undefined, 'path outside token scope'],
    ['backslash', `/vod/demo-ts/..\\demo-fmp4/master.m3u8?${valid}`, undefined, 'path outside token scope'],
    ['the prefix without its slash', `/vod/demo-ts?${valid}`, undefined, 'path outside token scope'],
    ['empty segments collapse as the cache key does', `/vod//demo-ts/./720p/seg.ts?${valid}`, undefined, true],
    ['client address matches', `/vod/demo-ts/a.ts?${token({ clientAddress: '192.0.2.7' })}`, '::ffff:192.0.2.7', true],
    ['client address differs', `/vod/demo-ts/a.ts?${token({ clientAddress: '192.0.2.7' })}`, '192.0.2.8', 'client address mismatch'],
    ['client address unknown', `/vod/demo-ts/a.ts?${token({ clientAddress: '192.0.2.7' })}`, undefined, 'client address mismatch'],
    ['client address removed', `/vod/demo-ts/a.ts?${token({ clientAddress: '192.0.2.7' }).replace(/&ip=[^&]+/, '')}`, '192.0.2.8', 'token invalid'],
    ['client address changed', `/vod/demo-ts/a.ts?${token({ clientAddress: '192.0.2.7' }).replace(/ip=[^&]+/, 'ip=192.0.2.8')}`, '192.0.2.8', 'token invalid'],
  ];
  for (const [name, target, address, expected] of cases) {
    it(name, () => {
      const result = verifier.check(target, address, NOW);
      if (expected === true) assert.equal(result.ok, true, JSON.stringify(result));
      else assert.deepEqual(result, { ok: false, reason: expected });
    });
  }

  it('a verifier without the signing key refuses its tokens', () => {
    assert.deepEqual(createUrlTokenVerifier([OLD]).check(`/vod/demo-ts/master.m3u8?${valid}`, undefined, NOW), { ok: false, reason: 'token invalid' });
  });

  it('hands back only the token parameters to carry into child URLs', () => {
    const result = verifier.check(`/vod/demo-ts/master.m3u8?region=eu&${valid}&_HLS_msn=2`, undefined, NOW);
    assert.ok(result.ok);
    assert.deepEqual([...new URLSearchParams(result.tokenQuery).keys()], ['st', 'exp', 'pfx', 'kid']);
  });
});

describe('url tokens: keys, prefixes and redaction', () => {
  it('refuses malformed key files', () => {
    assert.throws(() => parseTokenKey('no-colon-here-0123456789'), /kid:secret/);
    assert.throws(() => parseTokenKey('k1:short'), /at least 16 bytes/);
    assert.throws(() => parseTokenKey('bad id:0123456789abcdef0'), /key id/);
    assert.throws(() => parseTokenKey('k1:0123456789abcdef0\nk2:0123456789abcdef0'), /one line/);
  });
  it('signs only normalized prefixes ending in /', () => {
    assert.throws(() => token({ prefix: '/vod/demo-ts' }), /start and end with/);
    assert.throws(() => token({ prefix: '/vod/../' }), /normalized/);
    assert.throws(() => token({ prefix: '/vod//x/' }), /normalized/);
    assert.throws(() => token({ clientAddress: 'nowhere' }), /not an IP/);
  });
  it('normalizes scope paths like the cache key, refusing escapes', () => {
    assert.equal(normalizeScopePath('/vod/./a//b.ts'), '/vod/a/b.ts');
    assert.equal(normalizeScopePath('/vod/%61/b.ts'), '/vod/a/b.ts');
    assert.equal(normalizeScopePath('/vod/a/../b'), undefined);
    assert.equal(normalizeScopePath('/vod/%E0%A4%A/b'), undefined);
  });
  it('redacts token parameters from URLs, keeping the rest', () => {
    assert.equal(withoutTokenParams(`/vod/demo-ts/master.m3u8?${token()}`), '/vod/demo-ts/master.m3u8');
    assert.equal(withoutTokenParams(`/vod/demo-ts/master.m3u8?region=eu&${token({ clientAddress: '10.0.0.1' })}`), '/vod/demo-ts/master.m3u8?region=eu');
  });
});
