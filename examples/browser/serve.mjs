// A tiny static server for the browser example: http://127.0.0.1:8080/ (or --port N).
//   node examples/browser/serve.mjs [model.gguf] [--no-isolation]
// Serves this folder at /, the package's dist/ at /dist/ and the model at /model.gguf, with the
// COOP/COEP headers that make the page cross-origin isolated (--no-isolation leaves them out).
import { createServer } from 'node:http';
import { createReadStream, statSync } from 'node:fs';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (n) => args.includes(n);
const portArg = args.indexOf('--port');
const port = portArg >= 0 ? Number(args[portArg + 1]) : 8080;
// The package's files through its exports (as from any project that installed it): the shipped
// model and the folder of its bundles.
const require = createRequire(import.meta.url);
const model = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--port') ?? require.resolve('bitnet-wasm/models/default.gguf');
// (the folder through package.json: dist/ may not be built yet, and resolving a file in it would throw)
const dist = join(dirname(require.resolve('bitnet-wasm/package.json')), 'dist');
const TYPES = { '.html': 'text/html; charset=utf-8', '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.gguf': 'application/octet-stream', '.png': 'image/png' };

createServer((req, res) => {
  const headers = flag('--no-isolation') ? {} : { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
  let path;
  try { path = decodeURIComponent(new URL(req.url, 'http://x').pathname); } catch { res.writeHead(400, headers).end('bad URL'); return; } // e.g. GET /%
  if (req.method === 'POST') { req.resume(); req.on('end', () => res.writeHead(204, headers).end()); return; } // results of ?report=
  let file;
  if (path === '/model.gguf') file = model;
  else if (path.startsWith('/dist/')) file = normalize(join(dist, path.slice(6)));
  else file = normalize(join(here, path === '/' ? 'index.html' : path));
  if (!(file === model || file.startsWith(dist + sep) || file.startsWith(here + sep))) { res.writeHead(403, headers).end(); return; }
  let size;
  try { const st = statSync(file); if (!st.isFile()) throw new Error('not a file'); size = st.size; } catch { res.writeHead(404, headers).end('not found'); return; }
  const type = TYPES[extname(file)] ?? 'application/octet-stream';
  // One Range (the page downloads the model in parallel ranges when it caches it).
  const r = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (r && Number(r[1]) < size) {
    const start = Number(r[1]), end = Math.min(r[2] === '' ? size - 1 : Number(r[2]), size - 1);
    res.writeHead(206, { ...headers, 'content-type': type, 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1 });
    createReadStream(file, { start, end }).on('error', () => res.destroy()).pipe(res);
    return;
  }
  res.writeHead(200, { ...headers, 'content-type': type, 'accept-ranges': 'bytes', 'content-length': size });
  createReadStream(file).on('error', () => res.destroy()).pipe(res);
}).listen(port, '127.0.0.1', function () { console.log(`http://127.0.0.1:${this.address().port}/`); });
