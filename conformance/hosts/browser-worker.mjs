// The conformance set in a browser's dedicated worker (browser.html?worker=1 starts it): a worker
// may wait on others (Atomics.wait), so threads run here when the page is cross-origin isolated;
// without isolation its runtimes have 1 thread. Posts the report (with `threaded`) to the page.
import { runAll } from '../cases.mjs';

self.onmessage = async ({ data: { threads } }) => {
  try {
    const lib = await import('../../dist/browser.js');
    const modelBytes = new Uint8Array(await (await fetch('../tiny.gguf')).arrayBuffer());
    const m = /(Firefox|Chrome)\/([\d.]+)/.exec(navigator.userAgent);
    const report = await runAll(lib, { modelBytes, runtime: m ? m[1].toLowerCase() : 'browser', version: m ? m[2] : navigator.userAgent, threads });
    report.crossOriginIsolated = self.crossOriginIsolated;
    report.hardwareConcurrency = navigator.hardwareConcurrency;
    self.postMessage(report);
  } catch (e) {
    self.postMessage({ fatal: `${e && e.code ? e.code + ': ' : ''}${e && e.stack || e}` });
  }
};
