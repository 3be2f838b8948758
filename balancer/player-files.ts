import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { sendError } from './http-responses.js';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const ASSET_FILE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * The player's and dashboard's static files: `GET /` → <dir>/index.html, `GET /dashboard` →
 * <dir>/dashboard.html, `GET /assets/<file>` → <dir>/assets/<file>.
 * File names are matched against a strict pattern, so no path can leave the directory.
 */
export function createPlayerFiles(dir: string): (req: IncomingMessage, res: ServerResponse, path: string) => Promise<string> {
  return async (req, res, path) => {
    let file: string;
    if (path === '/' || path === '/index.html') file = join(dir, 'index.html');
    else if (path === '/dashboard') file = join(dir, 'dashboard.html');
    else {
      const name = path.slice('/assets/'.length);
      if (!ASSET_FILE.test(name) || name.includes('..')) {
        sendError(res, 400, 'malformed asset file name');
        return 'bad-request';
      }
      file = join(dir, 'assets', name);
    }
    let size: number;
    try {
      const info = await stat(file);
      if (!info.isFile()) throw new Error('not a file');
      size = info.size;
    } catch {
      try {
        await stat(join(dir, 'index.html'));
      } catch {
        sendError(res, 503, `player not built (no ${join(dir, 'index.html')}; run the player build)`);
        return 'not-built';
      }
      sendError(res, 404, 'no such file');
      return 'not-found';
    }
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': size,
      'cache-control': file.endsWith('.html') ? 'no-cache' : 'public, max-age=300',
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') {
      res.end();
      return 'served';
    }
    await new Promise<void>((resolve) => {
      const stream = createReadStream(file);
      stream.once('error', () => {
        res.destroy();
        resolve();
      });
      stream.pipe(res).once('close', resolve);
    });
    return 'served';
  };
}
