// Speed of the engine worker (bitnet-wasm/worker) in a cross-origin isolated page at each thread
// count, in headless Chromium and Firefox: prefill of a P-token prompt and decode of N greedy
// tokens, rounds interleaved across thread counts, best of each, with the ratio to 1 thread.
// Not part of `npm test` (a big model takes a minute to write).
//
//   node bench/browser-threads.mjs FILE [--threads 1,2] [--rounds 2] [-n 32] [-p 64] [--only chromium,firefox]
//
// Needs dist/ (npm run build). FILE: e.g. `node dist/cli.js make-model --preset large -o /tmp/large.gguf`.
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { startServer } from '../test/runtimes/server.mjs';
import { ROOT, findBrowser, runBrowserPage } from '../test/runtimes/runtimes.mjs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const file = argv.find((a, i) => !a.startsWith('-') && !(i > 0 && argv[i - 1].startsWith('-')));
if (!file) { console.error('usage: node bench/browser-threads.mjs FILE [--threads 1,2] [--rounds 2] [-n 32] [-p 64] [--only chromium,firefox]'); process.exit(2); }
const query = `threads=${opt('--threads', '1,2')}&rounds=${opt('--rounds', 2)}&n=${opt('-n', 32)}&p=${opt('-p', 64)}`;
console.log(`CPU ${cpus()[0]?.model} x ${cpus().length}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ${resolve(file)}; ${query}`);
for (const name of opt('--only', 'chromium,firefox').split(',')) {
  const bin = findBrowser(name);
  if (!bin) { console.log(`${name}: not installed`); continue; }
  const server = await startServer({ root: ROOT, allow: ['/dist/', '/bench/'], files: { '/model.gguf': resolve(file) } });
  let rep;
  try { rep = await runBrowserPage(name, bin, server, `/bench/browser-threads/page.html?${query}`, { timeoutMs: 1800000 }); } finally { await server.close(); }
  if (rep.fatal) { console.log(`${name}: FAIL ${rep.fatal}`); continue; }
  const one = rep.best[1] ?? Object.values(rep.best)[0];
  for (const [t, b] of Object.entries(rep.best)) {
    console.log(`${name.padEnd(8)} ${String(t).padStart(2)} threads (${b.threads} ran, ${b.kernel}): prefill ${b.prefill.toFixed(1)} tok/s (${(b.prefill / one.prefill).toFixed(2)}x), `
      + `decode ${b.decode.toFixed(1)} tok/s (${(b.decode / one.decode).toFixed(2)}x); tokens ${b.tokens.join() === one.tokens.join() ? 'same' : 'DIFFER'}`);
  }
}
console.log(`load average after: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
