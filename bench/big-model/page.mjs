// Browser host: loads /model.gguf by URL (HTTP ranges) through dist/browser.js and POSTs the report.
import { runBig } from './case.mjs';

const q = new URLSearchParams(location.search);
const id = q.get('id') ?? 'browser';
const logEl = document.getElementById('log');
const log = (m) => { logEl.textContent += '\n' + m; };
const post = (report) => fetch(`/__result/${encodeURIComponent(id)}`, { method: 'POST', body: JSON.stringify(report) });
const m = /(Firefox|Chrome)\/([\d.]+)/.exec(navigator.userAgent);
const runtime = m ? `${m[1].toLowerCase()} ${m[2]}` : navigator.userAgent;
try {
  const lib = await import('../../dist/browser.js');
  const size = Number((await fetch('/model.gguf', { method: 'HEAD' })).headers.get('content-length'));
  const report = await runBig(lib, new URL('/model.gguf', location.href).href, { contextLength: Number(q.get('ctx')), maxTokens: Number(q.get('n')), fileSize: size, log });
  await post({ runtime, ...report });
} catch (e) {
  await post({ runtime, fatal: `${e && e.code ? e.code + ': ' : ''}${e && e.stack || e}` });
}
