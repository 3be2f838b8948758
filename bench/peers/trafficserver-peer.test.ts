import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { trafficServerFiles, trafficServerRecords, trafficServerRemap, trafficServerRunroot } from './trafficserver-peer.js';

const OPTIONS = { originUrl: 'http://127.0.0.1:8091', cacheBytes: 64 * 1024 * 1024, workers: 3 };

describe('Traffic Server peer config', () => {
  it('listens on loopback only, caches, sizes the RAM cache and threads like the edge, and collapses concurrent misses', () => {
    const records = trafficServerRecords(4242, OPTIONS);
    for (const line of [
      'CONFIG proxy.config.http.server_ports STRING 4242:ip-in=127.0.0.1',
      'CONFIG proxy.config.http.cache.http INT 1',
      'CONFIG proxy.config.reverse_proxy.enabled INT 1',
      'CONFIG proxy.config.url_remap.remap_required INT 1',
      'CONFIG proxy.config.exec_thread.autoconfig INT 0',
      'CONFIG proxy.config.exec_thread.limit INT 3',
      `CONFIG proxy.config.cache.ram_cache.size INT ${64 * 1024 * 1024}`,
      'CONFIG proxy.config.cache.enable_read_while_writer INT 1',
      'CONFIG proxy.config.admin.user_id STRING #-1',
    ]) {
      assert.ok(records.split('\n').includes(line), `missing: ${line}\n${records}`);
    }
  });

  it('remaps the peer port to the origin and rejects anything but http://host:port', () => {
    assert.equal(trafficServerRemap(4242, 'http://127.0.0.1:8091'), 'map http://127.0.0.1:4242/ http://127.0.0.1:8091/\n');
    assert.throws(() => trafficServerRemap(4242, 'http://127.0.0.1'), /origin must be http:\/\/host:port/);
  });

  it('keeps every file it writes (config, cache, logs, runtime) under its own directory', () => {
    const runroot = trafficServerRunroot('/tmp/ats');
    for (const key of ['sysconfdir', 'localstatedir', 'runtimedir', 'logdir', 'cachedir']) assert.match(runroot, new RegExp(`^${key}: /tmp/ats/`, 'm'));
  });

  it('overrides the package config with its own records, remap and storage, keeping the rest', () => {
    const files = trafficServerFiles('/tmp/ats', 4242, OPTIONS, { 'records.config': 'CONFIG proxy.config.http.server_ports STRING 8080\n', 'body_factory/default/README': 'x', 'ip_allow.yaml': 'ip_allow: []\n' });
    assert.equal(files['etc/records.config'], trafficServerRecords(4242, OPTIONS));
    assert.equal(files['etc/remap.config'], trafficServerRemap(4242, OPTIONS.originUrl));
    assert.equal(files['etc/storage.config'], '/tmp/ats/cache 64M\n');
    assert.equal(files['etc/body_factory/default/README'], 'x');
    assert.equal(files['etc/ip_allow.yaml'], 'ip_allow: []\n');
    assert.equal(files['runroot.yaml'], trafficServerRunroot('/tmp/ats'));
  });
});
