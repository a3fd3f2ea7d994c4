// A tiny static server on 127.0.0.1 for the browser runs and the browser example: serves files
// under a few folders of the repository with the right MIME types (application/wasm, so
// compileStreaming works), optionally with COOP/COEP (cross-origin isolation), and receives the
// results a page POSTs back to /__result/<id>. Files answer Range requests (206) like a static host.
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm', '.json': 'application/json', '.gguf': 'application/octet-stream', '.css': 'text/css',
  '.map': 'application/json', '.png': 'image/png', '.ico': 'image/x-icon',
};

/**
 * @param {{ root: string, allow?: string[], files?: Record<string, string>, coi?: boolean, port?: number,
 *           onResult?: (id: string, body: any) => void, log?: (line: string) => void,
 *           onRequest?: (r: { method: string, path: string, range: string | null }) => void }} opts
 *   allow: URL path prefixes served from root (default /dist/, /conformance/, /examples/);
 *   files: extra URL path -> file; coi: send COOP/COEP (default true).
 * A result goes to the server's `waiters` (id -> callback: runBrowserPage waits there) and to onResult.
 */
export function startServer(opts) {
  const root = resolve(opts.root);
  const allow = opts.allow ?? ['/dist/', '/conformance/', '/examples/'];
  const coi = opts.coi ?? true;
  const waiters = new Map();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const headers = { 'cache-control': 'no-store' };
    if (coi) { headers['cross-origin-opener-policy'] = 'same-origin'; headers['cross-origin-embedder-policy'] = 'require-corp'; }
    if (req.method === 'POST' && url.pathname.startsWith('/__result/')) {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(204, headers).end();
        let body;
        try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch (e) { body = { fatal: `unparsable result: ${e.message}` }; }
        const id = decodeURIComponent(url.pathname.slice('/__result/'.length));
        waiters.get(id)?.(body);
        opts.onResult?.(id, body);
      });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, headers).end(); return; }
    if (url.pathname === '/favicon.ico') { res.writeHead(204, headers).end(); return; }
    let file = opts.files?.[url.pathname];
    if (!file) {
      const path = decodeURIComponent(url.pathname);
      if (!allow.some((p) => path.startsWith(p))) { res.writeHead(404, headers).end('not found'); return; }
      file = normalize(join(root, path));
      if (!file.startsWith(root + sep)) { res.writeHead(403, headers).end(); return; }
    }
    let st;
    try { st = statSync(file); } catch { st = null; }
    if (!st || !st.isFile()) { res.writeHead(404, headers).end('not found'); opts.log?.(`404 ${url.pathname}`); return; }
    opts.onRequest?.({ method: req.method, path: url.pathname, range: req.headers.range ?? null });
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    // Range requests (one range), as static file servers answer them: 206, or 416 past the end.
    const r = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (r) {
      const start = Number(r[1]), end = Math.min(r[2] === '' ? st.size - 1 : Number(r[2]), st.size - 1);
      if (start >= st.size || end < start) { res.writeHead(416, { ...headers, 'content-range': `bytes */${st.size}` }).end(); return; }
      res.writeHead(206, { ...headers, 'content-type': type, 'accept-ranges': 'bytes', 'content-range': `bytes ${start}-${end}/${st.size}`, 'content-length': end - start + 1 });
      if (req.method === 'HEAD') { res.end(); return; }
      createReadStream(file, { start, end }).pipe(res);
      return;
    }
    res.writeHead(200, { ...headers, 'content-type': type, 'accept-ranges': 'bytes', 'content-length': st.size });
    if (req.method === 'HEAD') { res.end(); return; }
    createReadStream(file).pipe(res);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      const { port } = server.address();
      ok({ url: `http://127.0.0.1:${port}`, port, waiters, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }) });
    });
  });
}
