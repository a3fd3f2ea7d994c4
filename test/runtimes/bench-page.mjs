// The benchmark suite in a browser (bench-hosts.mjs): options from ?o=JSON (models by URL), the
// run POSTed back to /__result/<id>.
const q = new URLSearchParams(location.search);
const id = q.get('id') ?? 'bench';
const logEl = document.getElementById('log');
const post = (body) => fetch(`/__result/${encodeURIComponent(id)}`, { method: 'POST', body: JSON.stringify(body) });
addEventListener('unhandledrejection', (e) => post({ fatal: `unhandled rejection: ${e.reason && e.reason.stack || e.reason}` }));
try {
  const { runBench } = await import('../../build/bench/browser.js');
  const run = await runBench({ ...JSON.parse(q.get('o')), log: (l) => { logEl.textContent += '\n' + l; } });
  run.notes.push(`${run.env.runtime}: performance.now() ${self.crossOriginIsolated ? 'cross-origin isolated' : 'not isolated'}`);
  await post(run);
} catch (e) {
  await post({ fatal: `${e && e.code ? e.code + ': ' : ''}${e && e.stack || e}` });
}
