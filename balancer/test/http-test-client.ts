import { request, type IncomingHttpHeaders } from 'node:http';

// A test client that sends the path exactly as written (fetch and new URL() would resolve "..")
// and can bind a source address, so a test can be a viewer from 127.0.1.x or 127.0.2.x.

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface GetOptions {
  readonly headers?: Record<string, string>;
  readonly localAddress?: string;
  readonly method?: string;
  readonly timeoutMs?: number;
}

export function get(url: string, options: GetOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const path = url.slice(url.indexOf('/', url.indexOf('//') + 2));
    const target = { hostname, port, path, method: options.method ?? 'GET', headers: options.headers, localAddress: options.localAddress, agent: false };
    const req = request(target, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.setTimeout(options.timeoutMs ?? 10_000, () => req.destroy(new Error(`no answer from ${url} within ${options.timeoutMs ?? 10_000} ms`)));
    req.on('error', reject);
    req.end();
  });
}
