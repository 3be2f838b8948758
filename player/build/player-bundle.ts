import { createHash } from 'node:crypto';
import { readFile, rm, mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, join, relative } from 'node:path';
import { build } from 'esbuild';

export interface PlayerBundleOptions {
  /** player/src: index.html, player.css, main.ts, and dashboard/ (dashboard.html, dashboard.css, main.ts). */
  readonly sourceDir: string;
  /** Output directory (dist/player-web): index.html plus assets/. Emptied first. */
  readonly outDir: string;
  readonly minify?: boolean;
}

export interface PlayerBundle {
  readonly indexHtml: string;
  /** The operations dashboard the balancer serves at /dashboard: its page, script and stylesheet. */
  readonly dashboard: { readonly html: string; readonly script: string; readonly stylesheet: string };
  /** Paths relative to outDir, e.g. `assets/player-3F2A….js`. */
  readonly script: string;
  readonly stylesheet: string;
  readonly worker: string;
  readonly files: readonly string[];
}

// Browsers that ship Media Source Extensions with the features hls.js 1.x relies on.
const BROWSER_TARGETS = ['chrome100', 'edge100', 'firefox100', 'safari15'];

function contentHash(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 10).toUpperCase();
}

/**
 * Builds the static player: hls.js and the page code bundled into one ES module, the stylesheet,
 * and hls.js's transmuxing worker; beside it the operations dashboard (uPlot and its page code), all under content-hashed names so the balancer may serve
 * assets/ as immutable; index.html is the only file that must be revalidated.
 */
export async function buildPlayerBundle(options: PlayerBundleOptions): Promise<PlayerBundle> {
  for (const name of ['sourceDir', 'outDir'] as const) {
    if (typeof options[name] !== 'string' || options[name] === '') throw new TypeError(`${name} must be a non-empty path`);
  }
  const assetsDir = join(options.outDir, 'assets');
  await rm(options.outDir, { recursive: true, force: true });
  await mkdir(assetsDir, { recursive: true });

  const workerSource = createRequire(import.meta.url).resolve('hls.js/dist/hls.worker.js');
  const workerBytes = await readFile(workerSource);
  const workerFile = `hls.worker-${contentHash(workerBytes)}.js`;
  await writeFile(join(assetsDir, workerFile), workerBytes);

  const result = await build({
    entryPoints: {
      player: join(options.sourceDir, 'main.ts'),
      'player-style': join(options.sourceDir, 'player.css'),
      dashboard: join(options.sourceDir, 'dashboard', 'main.ts'),
      'dashboard-style': join(options.sourceDir, 'dashboard', 'dashboard.css'),
    },
    outdir: assetsDir,
    entryNames: '[name]-[hash]',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: BROWSER_TARGETS,
    minify: options.minify ?? true,
    sourcemap: 'linked',
    legalComments: 'linked',
    metafile: true,
    define: { HLS_WORKER_FILE: JSON.stringify(`./${workerFile}`) },
    logLevel: 'silent',
  });
  for (const warning of result.warnings) console.warn(`player bundle: ${warning.text}`);

  const outputs = Object.keys(result.metafile.outputs).map((path) => relative(options.outDir, path).split('\\').join('/'));
  const script = outputs.find((path) => /^assets\/player-[^/]+\.js$/.test(path));
  const stylesheet = outputs.find((path) => /^assets\/player-style-[^/]+\.css$/.test(path));
  if (!script || !stylesheet) throw new Error(`player bundle: esbuild produced no script or stylesheet (${outputs.join(', ')})`);

  const dashboardScript = outputs.find((path) => /^assets\/dashboard-[A-Z0-9]+\.js$/.test(path));
  const dashboardStylesheet = outputs.find((path) => /^assets\/dashboard-style-[^/]+\.css$/.test(path));
  if (!dashboardScript || !dashboardStylesheet) throw new Error(`player bundle: esbuild produced no dashboard script or stylesheet (${outputs.join(', ')})`);

  const page = async (template: string, out: string, replacements: Record<string, string>): Promise<void> => {
    let html = await readFile(join(options.sourceDir, template), 'utf8');
    for (const [placeholder, value] of Object.entries(replacements)) html = html.replace(placeholder, value);
    if (html.includes('{{')) throw new Error(`player bundle: ${template} has an unreplaced {{placeholder}}`);
    await writeFile(join(options.outDir, out), html);
  };
  await page('index.html', 'index.html', { '{{PLAYER_CSS}}': stylesheet, '{{PLAYER_JS}}': script });
  await page('dashboard/dashboard.html', 'dashboard.html', { '{{DASHBOARD_CSS}}': dashboardStylesheet, '{{DASHBOARD_JS}}': dashboardScript });

  return {
    indexHtml: 'index.html',
    script,
    stylesheet,
    worker: `assets/${basename(workerFile)}`,
    dashboard: { html: 'dashboard.html', script: dashboardScript, stylesheet: dashboardStylesheet },
    files: ['index.html', 'dashboard.html', `assets/${workerFile}`, ...outputs].sort(),
  };
}
