// The bench page's Worker (bench-page.mjs): runs the suite with the options it is sent and posts
// back log lines ({ log }), then the run (or { fatal }).
addEventListener('unhandledrejection', (e) => postMessage({ fatal: `unhandled rejection: ${e.reason && e.reason.stack || e.reason}` }));
onmessage = async ({ data: options }) => {
  try {
    const { runBench } = await import('../../build/bench/browser.js');
    const run = await runBench({ ...options, log: (l) => postMessage({ log: l }) });
    run.notes.push(`${run.env.runtime}: performance.now() ${self.crossOriginIsolated ? 'cross-origin isolated' : 'not isolated'}, suite run in a Worker`);
    postMessage(run);
  } catch (e) {
    postMessage({ fatal: `${e && e.code ? e.code + ': ' : ''}${e && e.stack || e}` });
  }
};
