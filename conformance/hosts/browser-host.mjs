// Host for browsers: loads dist/browser.js (the package's "browser" export) and the shared cases,
// runs them, and POSTs the report to the server that served the page (/__result/<id>).
import { runAll } from '../cases.mjs';

const id = new URLSearchParams(location.search).get('id') ?? 'browser';
const logEl = document.getElementById('log');
const log = (m) => { logEl.textContent += '\n' + m; };
const post = (report) => fetch(`/__result/${encodeURIComponent(id)}`, { method: 'POST', body: JSON.stringify(report) });
addEventListener('error', (e) => post({ fatal: `uncaught: ${e.message}` }));
addEventListener('unhandledrejection', (e) => post({ fatal: `unhandled rejection: ${e.reason && e.reason.stack || e.reason}` }));

try {
  const lib = await import('../../dist/browser.js');
  const modelBytes = new Uint8Array(await (await fetch('../tiny.gguf')).arrayBuffer());
  const ua = navigator.userAgent;
  const m = /(Firefox|Chrome)\/([\d.]+)/.exec(ua);
  const t0 = performance.now();
  const report = await runAll(lib, { modelBytes, runtime: m ? m[1].toLowerCase() : 'browser', version: m ? m[2] : ua, log });
  report.ms = performance.now() - t0;
  report.userAgent = ua;
  report.crossOriginIsolated = self.crossOriginIsolated;
  log(JSON.stringify(report, null, 1));
  await post(report);
} catch (e) {
  await post({ fatal: `${e && e.code ? e.code + ': ' : ''}${e && e.stack || e}` });
}
