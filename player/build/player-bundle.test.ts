import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildPlayerBundle } from './player-bundle.js';

const sourceDir = fileURLToPath(new URL('../../../player/src', import.meta.url));

test('the player bundle is self-contained: every page reference is a local, content-hashed asset', { timeout: 60_000 }, async (t) => {
  const outDir = await mkdtemp(join(tmpdir(), 'streamedge-player-bundle-'));
  t.after(() => rm(outDir, { recursive: true, force: true }));

  const bundle = await buildPlayerBundle({ sourceDir, outDir });
  const html = await readFile(join(outDir, 'index.html'), 'utf8');

  const references = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((match) => match[1]!).filter((ref) => !ref.startsWith('data:'));
  assert.deepEqual(references.sort(), [bundle.script, bundle.stylesheet].sort());
  for (const ref of references) {
    assert.match(ref, /^assets\/[\w.-]+-[A-Z0-9]{8,}\.(?:js|css)$/, `${ref} is a relative, hashed asset path`);
    assert.ok((await stat(join(outDir, ref))).size > 0, `${ref} exists`);
  }
  assert.match(html, /http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self'; worker-src 'self';/);

  // hls.js itself is inside the bundle, and its worker is the file shipped beside it.
  const script = await readFile(join(outDir, bundle.script), 'utf8');
  assert.ok(script.length > 200_000, 'hls.js is bundled');
  assert.match(bundle.worker, /^assets\/hls\.worker-[0-9A-F]{10}\.js$/);
  assert.ok(script.includes(JSON.stringify(`./${bundle.worker.slice('assets/'.length)}`)), 'the bundle points hls.js at the shipped worker');
  assert.ok((await stat(join(outDir, bundle.worker))).size > 10_000);
  assert.ok(bundle.files.includes('index.html'));

  // The dashboard: its own page, with uPlot bundled and its stylesheet, under the same strict CSP.
  const dashboardHtml = await readFile(join(outDir, 'dashboard.html'), 'utf8');
  const dashboardReferences = [...dashboardHtml.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((match) => match[1]!).filter((ref) => !ref.startsWith('data:'));
  assert.deepEqual(dashboardReferences.sort(), [bundle.dashboard.script, bundle.dashboard.stylesheet].sort());
  assert.match(dashboardHtml, /http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self'; style-src 'self';[^"]*connect-src 'self'; object-src 'none'/);
  assert.doesNotMatch(dashboardHtml, /unsafe-|\bstyle="|<style|<script>/, 'no inline script or style');
  const dashboardScript = await readFile(join(outDir, bundle.dashboard.script), 'utf8');
  assert.ok(dashboardScript.includes('uplot'), 'uPlot is bundled');
  assert.ok(!dashboardScript.includes('hls.js'), 'the dashboard does not carry hls.js');
  assert.match(await readFile(join(outDir, bundle.dashboard.stylesheet), 'utf8'), /\.uplot/, "uPlot's stylesheet is bundled");
});

test('buildPlayerBundle names a bad option', async () => {
  await assert.rejects(buildPlayerBundle({ sourceDir, outDir: '' }), /outDir must be a non-empty path/);
  await assert.rejects(buildPlayerBundle({ sourceDir: undefined as unknown as string, outDir: '/nonexistent' }), /sourceDir must be a non-empty path/);
});
