import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requirePeerBinary } from './unprivileged-peer.js';
import { varnishArgs, varnishVcl } from './varnish-peer.js';

describe('varnish peer config', () => {
  it('points the backend at the origin and keys the cache on the path without the query string', () => {
    const vcl = varnishVcl('http://127.0.0.1:8091');
    assert.match(vcl, /^vcl 4\.1;/);
    assert.match(vcl, /\.host = "127\.0\.0\.1";\s+\.port = "8091";/);
    assert.match(vcl, /hash_data\(regsub\(req\.url, "\\\?\.\*\$", ""\)\);/);
    // Freshness stays with the built-in VCL, which reads the origin's Cache-Control.
    assert.doesNotMatch(vcl, /beresp\.ttl|vcl_backend_response/);
  });

  it('rejects an origin that is not http://host:port', () => {
    assert.throws(() => varnishVcl('https://127.0.0.1:8091'), /origin must be http:\/\/host:port/);
    assert.throws(() => varnishVcl('http://127.0.0.1'), /origin must be http:\/\/host:port/);
  });

  it('runs in the foreground on loopback with a malloc store of the cache size and no management port', () => {
    const args = varnishArgs('/tmp/v', 4242, { originUrl: 'http://127.0.0.1:1', cacheBytes: 256 * 1024 * 1024, workers: 2 });
    assert.deepEqual(args, ['-F', '-n', '/tmp/v/work', '-a', '127.0.0.1:4242', '-f', '/tmp/v/default.vcl', '-s', 'malloc,256M', '-T', 'none', '-p', 'thread_pools=2']);
  });

  it('names the Debian package when the binary is missing', async () => {
    await assert.rejects(
      requirePeerBinary({ path: '/nonexistent/varnishd', debianPackage: 'varnish', overrideVariable: 'VARNISHD_BIN' }),
      /\/nonexistent\/varnishd is missing or not executable: install the Debian package "varnish" \(apt-get install varnish\) or point VARNISHD_BIN/,
    );
  });
});
