import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nginxCacheConfig } from './nginx-peer.js';

test('nginx keys its cache on the path, or on path and query when LL-HLS blocking reloads must stay apart', () => {
  const options = { originUrl: 'http://127.0.0.1:8091', cacheBytes: 64 * 1024 * 1024, workers: 1 };
  const plain = nginxCacheConfig('/tmp/peer', 9000, options);
  assert.match(plain, /proxy_cache_key \$uri;\n/);
  assert.match(plain, /proxy_cache_lock on;/);
  assert.match(plain, /server 127\.0\.0\.1:8091;/);
  assert.match(nginxCacheConfig('/tmp/peer', 9000, { ...options, cacheKeyWithQuery: true }), /proxy_cache_key \$uri\$is_args\$args;\n/);
});
