// The benchmark suite in a browser (bench-hosts.mjs): options from ?o=JSON (models by URL), the
// run POSTed back to /__result/<id>. The suite runs in a module Worker, as an application's engine
// does: a page's main thread may not Atomics.wait, so only a Worker gets the library's threads
// (the page is cross-origin isolated; bench-page-worker.mjs).
const q = new URLSearchParams(location.search);
const id = q.get('id') ?? 'bench';
const logEl = document.getElementById('log');
const post = (body) => fetch(`/__result/${encodeURIComponent(id)}`, { method: 'POST', body: JSON.stringify(body) });
addEventListener('unhandledrejection', (e) => post({ fatal: `unhandled rejection: ${e.reason && e.reason.stack || e.reason}` }));
const worker = new Worker(new URL('./bench-page-worker.mjs', import.meta.url), { type: 'module' });
worker.onmessage = ({ data }) => {
  if (data.log !== undefined) logEl.textContent += '\n' + data.log;
  else void post(data); // { run } is the run itself, or { fatal }
};
worker.onerror = (e) => { e.preventDefault(); void post({ fatal: `the bench worker failed: ${e.message}` }); };
worker.postMessage(JSON.parse(q.get('o')));
