// Host for browsers: loads dist/browser.js (the package's "browser" export) and the shared cases,
// runs them, and POSTs the report to the server that served the page (/__result/<id>). With
// ?worker=1 they run in a dedicated worker instead, with threads.
import { runAll } from '../cases.mjs';

const id = new URLSearchParams(location.search).get('id') ?? 'browser';
const logEl = document.getElementById('log');
const log = (m) => { logEl.textContent += '\n' + m; };
const post = (report) => fetch(`/__result/${encodeURIComponent(id)}`, { method: 'POST', body: JSON.stringify(report) });
addEventListener('error', (e) => post({ fatal: `uncaught: ${e.message}` }));
addEventListener('unhandledrejection', (e) => post({ fatal: `unhandled rejection: ${e.reason && e.reason.stack || e.reason}` }));

// ?worker=1: the set runs in a dedicated worker, again with 2, 3 and 4 threads (browser-worker.mjs).
if (new URLSearchParams(location.search).get('worker')) {
  const w = new Worker(new URL('./browser-worker.mjs', import.meta.url), { type: 'module' });
  w.onerror = (e) => post({ fatal: `worker: ${e.message}` });
  w.onmessage = async ({ data: report }) => {
    report.userAgent = navigator.userAgent;
    report.inWorker = true;
    log(JSON.stringify(report, null, 1));
    await post(report);
  };
  w.postMessage({ threads: [2, 3, 4] }); // (1 thread: report.builds)
} else try {
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
